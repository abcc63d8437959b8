"""Nurses work cases by SMS from their own phones (numbers in the roster; never triaged as patients).

    ACK [case]          take a case (plain ACK: your latest page)
    MSG <case> <text>   text the patient from the clinic number
    CALL [case]         call the patient through the clinic number: we ring you, then them (plain CALL: your latest)
    DONE <case> [note]  resolve the case, with a note
    NOTE <case> <text>  add a note
    WHO                 who is on call now
    HELP                the commands

Commands only parse and call operations.py (the dashboard calls the same functions), inside one
transaction; a refused or failed command changes nothing. Each command and its answer are stored.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from ..callbacks import attempts as callbacks
from ..callbacks.phrases import staff
from ..models import Escalation, Message
from ..phones import pretty
from ..runtime import envelope
from ..runtime.envelope import Codec, Turn
from ..services import Services
from . import operations
from .operations import Actor, NotAllowed
from .roster import Nurse, Roster

log = logging.getLogger(__name__)

HELP = ("Nurse line commands: ACK <case> take a case (ACK alone: your latest page); MSG <case> <text> text the "
        "patient; CALL <case> we ring you, then the patient, from the clinic number; DONE <case> <note> resolve; "
        "NOTE <case> <text> add a note; WHO on call now; HELP this list.")
FAILED = "Sorry, that command could not be carried out just now. Please try again, or call the clinic."
_COMMAND = re.compile(r"^\s*([A-Za-z]+)[\s:.,!#-]*(?:case\s*)?#?\s*(\d+)?[\s:.,-]*(.*)$", re.IGNORECASE | re.DOTALL)
VERBS = ("ACK", "MSG", "CALL", "DONE", "NOTE", "WHO", "HELP")
_SYNONYMS = {"ACKNOWLEDGE": "ACK", "ACCEPT": "ACK", "TAKE": "ACK", "MESSAGE": "MSG", "TEXT": "MSG", "CALLBACK": "CALL",
             "RESOLVE": "DONE", "RESOLVED": "DONE", "CLOSE": "DONE", "COMMANDS": "HELP", "ONCALL": "WHO"}
USAGE = {"ACK": "ACK <case>", "MSG": "MSG <case> <text>", "DONE": "DONE <case> <note>", "NOTE": "NOTE <case> <text>"}


@dataclass(frozen=True)
class Command:
    verb: str  # one of VERBS, or "" when not a command
    case_id: int | None = None
    text: str = ""


def parse(body: str) -> Command:
    """'ack 12', 'ACK #12', 'msg 12 calling you in 5 min', 'Done case 12: sent to ED' -> Command."""
    match = _COMMAND.match(body or "")
    if match is None:
        return Command("")
    word, number, rest = match.groups()
    verb = _SYNONYMS.get(word.upper(), word.upper())
    if verb not in VERBS:
        return Command("")
    return Command(verb, int(number) if number and len(number) <= 9 else None, rest.strip())


_ANSWER = Codec[list[str]](json.dumps, json.loads)


def receive(svc: Services, *, nurse: Nurse, text: str, sid: str | None) -> list[str]:
    """One SMS from a roster number: run the command, answer in the TwiML reply. A repeated MessageSid
    gets the same answer and does nothing twice."""

    def work(turn: Turn[list[str]]) -> list[str]:
        session, now = turn.session, turn.now
        command = parse(text)
        actor = Actor(name=nurse.name, phone=nurse.phone)
        try:
            with session.begin_nested():  # a refusal midway (e.g. patient opted out) undoes the rest
                reply, case_id = run(svc, session, command, actor, now)
        except NotAllowed as refusal:
            reply, case_id = str(refusal), command.case_id
        _record(session, nurse, text, reply, command, case_id, sid, now)
        log.info("nurse_sms.command verb=%s case=%s", command.verb or "unknown", case_id)
        return [reply]

    return envelope.run(svc, work, key=f"sms:{sid}" if sid else None, codec=_ANSWER)


def run(svc: Services, session: Session, command: Command, actor: Actor, now: datetime) -> tuple[str, int | None]:
    """Carry out one command; returns the answer and the case it concerned. NotAllowed: refused."""
    verb = command.verb
    if verb == "WHO":
        return who_text(svc.roster, now), None
    if verb in ("", "HELP"):
        return (HELP if verb else "Not a command. " + HELP), None
    if verb == "ACK" and command.case_id is None:
        case = operations.latest_case_paged_to(session, actor.phone or "", waiting=True)
        if case is None:
            raise NotAllowed("No case is waiting for you.")
    elif verb == "CALL" and command.case_id is None:
        case = operations.latest_case_paged_to(session, actor.phone or "")
        if case is None:
            raise NotAllowed(staff("no_case"))
    elif command.case_id is None:
        raise NotAllowed(f"Which case? Reply {USAGE[verb]}.")
    else:
        case = operations.get_case(session, command.case_id)
    if verb == "ACK":
        taken = operations.acknowledge(svc, session, case, actor, now)
        head = f"Case {case.id} is yours." if taken else f"You already have case {case.id}."
        return (f"{head} Patient {pretty(case.patient.phone)}. Reply MSG {case.id} <text> to text them, "
                f"DONE {case.id} <note> when finished."), case.id
    if verb == "CALL":
        callbacks.request(svc, session, case, actor, now)
        return callbacks.calling_you(actor, case), case.id
    if not command.text:
        raise NotAllowed(f"Please add the {'note' if verb == 'DONE' else 'text'}: {USAGE[verb]}.")
    if verb == "MSG":
        operations.message_patient(svc, session, case, actor, command.text, now)
        return f"Sent to the patient on case {case.id}. Their replies will come to you.", case.id
    if verb == "NOTE":
        operations.add_note(session, case, actor, command.text, now)
        return f"Note added to case {case.id}.", case.id
    operations.resolve(session, case, actor, command.text, now)
    return f"Case {case.id} resolved. Note saved.", case.id


def who_text(roster: Roster, at: datetime) -> str:
    on_call = roster.on_call(at)
    if not on_call:
        people = "nobody is on call"
    else:
        people = "; ".join(f"{entry.role} {entry.nurse.name} {pretty(entry.nurse.phone)}" for entry in on_call)
    fallback = roster.fallback
    tail = f"; then {fallback.name} {pretty(fallback.phone)}" if fallback else ""
    return f"On call now: {people}{tail}."


def _record(session: Session, nurse: Nurse, text: str, reply: str, command: Command, case_id: int | None,
            sid: str | None, now: datetime) -> None:
    """The command and its answer join the message history (the nurse's number as sender)."""
    verb = command.verb or "unknown"
    session.add(Message(escalation_id=_existing(session, case_id), direction="in", channel="sms",
                        kind="nurse_command", key=verb, from_phone=nurse.phone, body=text, status="received",
                        twilio_sid=sid, created_at=now))
    session.add(Message(escalation_id=_existing(session, case_id), direction="out", channel="sms",
                        kind="nurse_reply", key=verb, to_phone=nurse.phone, body=reply, status="twiml", attempts=1,
                        created_at=now, sent_at=now))


def _existing(session: Session, case_id: int | None) -> int | None:
    """Only a real case id goes in the foreign key (a nurse may type a number that is no case)."""

    return case_id if case_id is not None and session.get(Escalation, case_id) is not None else None
