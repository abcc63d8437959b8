"""Conversation tests as data: what the patient sends, and what must follow.

A clinician writes YAML like this (tests/conversations/*.yaml) and never reads Python:

    flow: back_spasm
    cases:
      - name: bladder control lost, answered yes
        steps:
          - hi
          - "no"
          - send: "yes"
            reply_contains: [emergency department]
        expect:
          level: ed_now
          paged: true
          red_flags: [bladder_bowel]

Steps: a plain string (or `send:`) is a text from the patient; `press:` is a keypad digit on the
phone; `wait:` lets time pass (30m, 24h), so reminders, check-ins and nurse timers happen as they
would. Each step may check `reply_contains` / `reply_lacks` on what the patient received.

`channel: voice` plays a phone call through the call runtime (service/runtime/calls.py, as the voice webhook
does): the call rings when the case starts and the language offer is answered as the caller would
(`language: es` presses 2 at "Para español, oprima 2"; otherwise no key, so English). Each step then
answers what the caller just heard: `press:` a key, `send:` words spoken ("" is silence); its replies
are the prompts the caller hears, plus any texts sent to them. Once the call ends (hung up, or put
through to the nurse) further steps are texts, as a caller answering the check-ins would send.

Each case runs through the real service (the same runtime, engine, parser and outbound path as the
webhooks) on a scratch SQLite database with a fake clock, one patient number per case.
"""

from __future__ import annotations

import difflib
import io
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update

from ..clock import tick
from ..db import transaction
from ..engine.keypad import key_to_text
from ..engine.phone_turns import GATHER, Heard
from ..features import timers
from ..models import Checkin, Conversation, Escalation, Message, Patient
from ..outbox.transports import ConsoleTransport
from ..runtime.calls import call_input, start_call
from ..runtime.conversation import lock_patient
from ..runtime.sms import receive_sms
from ..settings import Settings
from .case_files import Case, Step, load_case_file

START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # a Monday, 10:00 in New York: inside texting hours


@dataclass
class Outcome:
    """What one case produced, and every difference from what it expected."""

    file: str
    name: str
    transcript: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    red_flags: list[str] = field(default_factory=list)
    level: str | None = None

    @property
    def passed(self) -> bool:
        return not self.failures

    def report(self) -> str:
        lines = [f"FAIL {self.file}: {self.name}"]
        lines += [f"  {failure}" for failure in self.failures]
        lines.append("  conversation:")
        lines += [f"    {line}" for line in self.transcript]
        return "\n".join(lines)


def _diff(what: str, expected: object, got: object) -> str:
    return f"{what}:\n    - expected: {expected}\n    + got:      {got}"


def _text_diff(what: str, needle: str, haystack: str, present: bool) -> str:
    verb = "contain" if present else "not contain"
    best = difflib.get_close_matches(needle.lower(), haystack.lower().split("\n"), n=1, cutoff=0.0)
    return f'{what} should {verb} "{needle}"\n    + got: "{best[0] if best else haystack}"'


@dataclass
class _Call:
    """A voice case's phone call: its CallSid, and the Gather it waits on (None once the call has ended)."""

    sid: str
    turn: Any = None  # engine.phone_turns.VoiceTurn
    ended: str | None = None  # how the call ended (hangup, dial, record), for the transcript


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


class ConversationTester:
    """A scratch copy of the service for playing cases: temporary SQLite, console transport, fake clock.
    `create_app` is passed in (service.create_app): the app's `flows test` command loads this module."""

    def __init__(self, flows: str | Path, create_app: Callable[..., Any], base_settings: Any = None):
        scratch = Path(tempfile.mkdtemp(prefix="triage-cases-"))
        base = base_settings or Settings()
        settings = replace(base, database_url=f"sqlite:///{scratch / 'cases.sqlite3'}", transport="console",
                           dispatch="inline", auto_migrate=True, run_clock=False, flows_dir=str(flows),
                           clinic_name=base.clinic_name or "Clinic")

        self.clock = Clock()
        self.app = create_app(settings, clock=self.clock, transport=ConsoleTransport(io.StringIO()))
        self.svc = self.app.extensions["triage"]
        self._numbers = iter(range(2125551000, 2125559999))

    def close(self) -> None:
        self.svc.shutdown()
        self.svc.engine.dispose()

    def run(self, case: Case, file: str) -> Outcome:
        self._settle_earlier_cases()
        self.clock.now = START
        phone = f"+1{next(self._numbers)}"
        outcome = Outcome(file=file, name=case.name)
        call = self._ring(phone, case, outcome) if case.channel == "voice" else None
        for index, step in enumerate(case.steps, 1):
            replies = self._play(step, phone, case, outcome, call)
            text = "\n".join(replies)
            for needle in step.reply_contains:
                if needle.lower() not in text.lower():
                    outcome.failures.append(_text_diff(f"step {index} reply", needle, text, True))
            for needle in step.reply_lacks:
                if needle.lower() in text.lower():
                    outcome.failures.append(_text_diff(f"step {index} reply", needle, text, False))
        self._check(case, phone, outcome)
        return outcome

    def _ring(self, phone: str, case: Case, outcome: Outcome) -> _Call:
        """A voice case's call comes in; the language offer is answered as the case's caller would."""

        if case.language not in ("en", "es"):  # a language the line does not offer: known to speak it
            self._set_language(phone, case.language)
        call = _Call("CA" + uuid.uuid4().hex)
        turn = start_call(self.svc, call_sid=call.sid, phone=phone)
        outcome.transcript += ["(the phone rings)", *(f"line> {text}" for text in turn.say)]
        heard = Heard(digits="2") if case.language == "es" else Heard()
        outcome.transcript.append("you press> 2 (Spanish)" if heard.digits else "you say> (nothing)")
        turn = call_input(self.svc, call_sid=call.sid, phone=phone, step_number=turn.step, at=turn.at,
                          tries=turn.tries, heard=heard)
        outcome.transcript += [f"line> {text}" for text in turn.say]
        call.turn = turn
        return call

    def _say_on_call(self, step: Step, phone: str, call: _Call, outcome: Outcome) -> list[str]:
        """One step of a live call, through the same runtime as the voice webhook: what the caller hears."""

        if step.press is not None:
            heard, label = Heard(digits=step.press), f"you press> {step.press}"
        else:
            words = (step.send or "").strip()
            heard = Heard(speech=words or None, confidence=1.0 if words else None)
            label = f"you say> {words or '(nothing)'}"
        outcome.transcript.append(label)
        turn = call.turn
        turn = call_input(self.svc, call_sid=call.sid, phone=phone, step_number=turn.step, at=turn.at,
                          tries=turn.tries, heard=heard)
        call.turn = turn if turn.then == GATHER else None
        call.ended = None if call.turn is not None else turn.then
        return list(turn.say)

    def _play(self, step: Step, phone: str, case: Case, outcome: Outcome, call: _Call | None = None) -> list[str]:

        before = self._texts_to(phone)
        if step.wait is not None:
            outcome.transcript.append(f"(wait {step.wait})")
            self._wait(step.wait, tick)
            replies: list[str] = []
        elif call is not None and call.turn is not None:
            replies = self._say_on_call(step, phone, call, outcome)
        else:
            text = step.send if step.send is not None else key_to_text(step.press or "")
            label = f"you> {step.send}" if step.send is not None else f"you press> {step.press}"
            outcome.transcript.append(label)
            if case.language != "en" and not outcome.transcript[:-1]:
                self._set_language(phone, case.language)
            replies = receive_sms(self.svc, phone=phone, text=text or "", sid=None).replies
        replies += self._texts_to(phone)[len(before):]
        outcome.transcript += [f"line> {r}" for r in replies]
        if call is not None and call.ended:
            outcome.transcript.append(f"(the call ends: {call.ended})")
            call.ended = None
        return replies

    def _wait(self, duration: timedelta, tick: Any) -> None:
        """Let time pass, jumping from one timer to the next so each fires when it would.

        The rows are the timers (silence reminders, check-ins, nurse re-pages, send retries), so the
        next moment anything can happen is the earliest future time among them. A check-in that is
        due but held back (quiet hours, daily cap) is retried every few minutes until it goes."""
        end = self.clock.now + duration
        tick(self.svc)
        while self.clock.now < end:
            upcoming = self._next_timer()
            step = timedelta(minutes=5) if self._held_checkins() else None
            target = min(t for t in (upcoming, end, self.clock.now + step if step else None) if t is not None)
            self.clock.now = max(target, self.clock.now + timedelta(seconds=1))
            tick(self.svc)

    def _next_timer(self) -> datetime | None:
        """The earliest future moment among the clock jobs' timers (features.py)."""
        now = self.clock.now
        found: list[datetime] = []
        with self.svc.factory() as session:
            for timer in timers():
                after = timer.after(self.svc.settings) if timer.after is not None else timedelta(0)
                if after is None:
                    continue
                query = select(func.min(timer.column)).where(timer.column > now - after)
                value = session.scalar(query if timer.where is None else query.where(timer.where))
                if value is not None:
                    found.append((value if value.tzinfo else value.replace(tzinfo=UTC)) + after)
        return min(found) if found else None

    def _settle_earlier_cases(self) -> None:
        """Each case plays alone: the timers earlier cases left (their clocks set back to START too) are stopped, or
        every later case's wait stepped through each of them and sent their check-ins (90 s for one 3-day wait)."""
        with transaction(self.svc.factory) as session:
            session.execute(update(Checkin).where(Checkin.status == "pending").values(status="cancelled"))
            for column in (Checkin.reminder_due_at, Checkin.expires_at, Conversation.silence_due_at,
                           Escalation.next_action_at, Message.next_attempt_at):  # only the rows still holding one
                session.execute(update(column.class_).where(column.is_not(None)).values({column.key: None}))

    def _held_checkins(self) -> bool:

        with self.svc.factory() as session:
            return session.scalar(select(Checkin.id).where(Checkin.status == "pending",
                                                           Checkin.due_at <= self.clock.now).limit(1)) is not None

    def _set_language(self, phone: str, language: str) -> None:

        with transaction(self.svc.factory) as session:
            lock_patient(session, phone, self.clock.now).language = language

    def _texts_to(self, phone: str) -> list[str]:

        with self.svc.factory() as session:
            # Texts sent (not TwiML replies, and not a call's advice staged until the caller accepts it).
            rows = session.scalars(select(Message.body).where(Message.to_phone == phone, Message.direction == "out",
                                                              Message.status.not_in(("twiml", "offered", "declined")))
                                   .order_by(Message.id))
            return list(rows)

    def _check(self, case: Case, phone: str, outcome: Outcome) -> None:

        expect = case.expect
        with self.svc.factory() as session:
            patient = session.scalars(select(Patient).where(Patient.phone == phone)).one()
            conversation = session.scalars(select(Conversation).where(Conversation.patient_id == patient.id)
                                           .order_by(Conversation.id.desc())).first()
            cases = list(session.scalars(select(Escalation).where(Escalation.patient_id == patient.id)))
            pages = session.scalars(select(Message.id).where(Message.kind == "page",
                                                             Message.patient_id == patient.id)).all()
            checkins = list(session.scalars(select(Checkin).where(Checkin.patient_id == patient.id,
                                                                  Checkin.status == "pending")))
            flags = sorted({f for c in cases for f in c.red_flags}
                           | set((conversation.state or {}).get("red_flags", []) if conversation else []))
            outcome.red_flags = flags
            outcome.level = conversation.level if conversation else None
            failures = outcome.failures
            if expect.level is not None and outcome.level != expect.level.value:
                failures.append(_diff("level", expect.level.value, outcome.level))
            if expect.no_outcome and outcome.level is not None:
                failures.append(_diff("level", "no outcome yet", outcome.level))
            got_disposition = conversation.disposition if conversation else None
            if expect.disposition is not None and got_disposition != expect.disposition:
                failures.append(_diff("disposition", expect.disposition, got_disposition))
            got_outcome = conversation.outcome if conversation else None
            if expect.outcome is not None and got_outcome != expect.outcome:
                failures.append(_diff("outcome", expect.outcome, got_outcome))
            if expect.paged is not None and bool(pages) != expect.paged:
                failures.append(_diff("nurse paged", expect.paged, bool(pages)))
            if expect.red_flags is not None and sorted(expect.red_flags) != flags:
                failures.append(_diff("red flags", sorted(expect.red_flags), flags))
            if expect.checkins is not None:
                want = sorted((c.ask, c.after) for c in expect.checkins)
                got = sorted((c.ask, c.due_at - c.created_at) for c in checkins)
                if want != got:
                    failures.append(_diff("check-ins scheduled", [f"{a} after {d}" for a, d in want],
                                          [f"{a} after {d}" for a, d in got]))
            if expect.opted_out is not None and patient.opted_out != expect.opted_out:
                failures.append(_diff("opted out", expect.opted_out, patient.opted_out))
        everything = "\n".join(line for line in outcome.transcript if line.startswith("line>"))
        last = _last_replies(outcome.transcript)
        for needle in expect.replies_contain:
            if needle.lower() not in last.lower():
                failures.append(_text_diff("last reply", needle, last, True))
        for needle in expect.replies_lack:
            if needle.lower() in everything.lower():
                failures.append(_text_diff("replies", needle, everything, False))


def _last_replies(transcript: list[str]) -> str:
    last: list[str] = []
    for line in reversed(transcript):
        if line.startswith("line> "):
            last.insert(0, line[len("line> "):])
        elif last:
            break
    return "\n".join(last)


def run_files(paths: list[Path], flows: str | Path, create_app: Callable[..., Any]) -> list[Outcome]:
    tester = ConversationTester(flows, create_app)
    results: list[Outcome] = []
    try:
        for path in paths:
            case_file = load_case_file(path)
            served = {loaded.flow.id for loaded in tester.svc.flows.all_current()}
            if case_file.flow not in served:
                results.append(Outcome(str(path), "(file)", failures=[_diff("flow", case_file.flow, sorted(served))]))
                continue
            tester.svc.flows.default_id = case_file.flow  # new conversations start on the file's flow
            results += [tester.run(case, str(path)) for case in case_file.cases]
    finally:
        tester.close()
    return results
