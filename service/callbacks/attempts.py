"""Calling a patient back through the clinic number, so the nurse's own number is never shown.

    CALL <case> (SMS) or "Call the patient" (dashboard) -> request(): a call to the nurse's roster phone is
    queued on the one outbound path (persisted, retried, sent once), from the clinic number
    -> the nurse answers: a short whisper (case, level, red flags, language) and "press 1"   nurse_answered()
    -> 1: <Dial callerId=clinic number> the patient                                         pressed()
    -> the patient answers: a line in their language, then the two are connected           patient_answered()
    -> the dial ends: talked (first contact, duration), or no answer: the nurse is told by
       voice and by text, and offered to text the patient that a nurse tried to call       dialled(), text_offer()
    -> the nurse's call ends (Twilio's status callback): the outcome and duration audited  nurse_leg_ended()

Each step runs inside the runtime envelope (webhooks.py) with the case's patient locked, and is written to the
case's audit trail (EscalationEvent), so the attempt, its outcome and its duration are on the case history.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..engine.flow import LEVEL_WORDS, Flow, Level
from ..engine.render import localize
from ..escalation import operations
from ..escalation.cases import LANGUAGE_NAMES, audit, first_contact
from ..escalation.operations import Actor, NotAllowed
from ..models import Callback, Conversation, Escalation, Message, Patient
from ..outbox.outbound import SendError, queue_call, queue_sms
from ..phones import mask, pretty
from ..services import Services
from ..statuses import UNOWNED_STATUSES, CallbackStatus, CaseStatus
from .phrases import staff

log = logging.getLogger(__name__)

# The webhooks Twilio requests during a callback (webhooks.py serves them; ?callback=<id> says which).
NURSE_LEG = "/twilio/callback/nurse"  # the nurse answered: the whisper and "press 1"
PRESSED = "/twilio/callback/pressed"  # what the nurse pressed
PATIENT_LEG = "/twilio/callback/patient"  # the patient answered: said to them before they are connected
DIALLED = "/twilio/callback/dialled"  # the <Dial> to the patient ended
TEXT_OFFER = "/twilio/callback/text-offer"  # after no answer: 1 texts the patient that a nurse called
STATUS = "/twilio/callback/status"  # the nurse's call ended (status callback)

UNDER_WAY = (CallbackStatus.queued, CallbackStatus.whispered, CallbackStatus.dialling)
RINGING_LIMIT = timedelta(minutes=3)  # no word from the nurse's phone by then: that attempt is over
TALKING_LIMIT = timedelta(hours=1)  # a call answered this long ago without an end reported is over too
RETRY_WINDOW = timedelta(minutes=2)  # a call the nurse asked for now is no use to them later: no late retries
TALKED = ("completed", "answered")  # DialCallStatus when the patient picked up
OUTCOME_WORDS = {
    "talked": "talked with the patient", "patient_no_answer": "the patient did not answer",
    "nurse_no_answer": "the nurse's phone did not answer", "not_connected": "the nurse did not press 1",
    "nurse_hung_up": "the nurse hung up before the patient answered", "case_closed": "the case was resolved",
    "failed": "the call could not be placed", "no_word": "Twilio never reported how the call ended",
}

# What a webhook answers: said, then one of these.
PRESS, DIAL, OFFER, HANGUP, CONNECT = "press", "dial", "offer", "hangup", "connect"


@dataclass(frozen=True)
class Step:
    """One callback webhook's answer, stored as its receipt so a repeated request answers the same."""

    say: str
    then: str = HANGUP
    dial: str | None = None  # the patient's number (DIAL)
    language: str = "en"  # what `say` is in (the patient's leg)

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def _query(callback: Callback) -> str:
    return f"?callback={callback.id}"


# --- the request: SMS CALL and the dashboard button -----------------------------------------------------


def request(svc: Services, session: Session, case: Escalation, actor: Actor, now: datetime) -> Callback:
    """Queue a call to the nurse's roster phone for this case (taking the case if nobody has it)."""
    operations.check_may_act(case, actor)
    if not actor.phone:
        raise NotAllowed(staff("no_phone"))
    patient = session.get(Patient, case.patient_id)
    assert patient is not None
    if patient.phone is None:
        raise NotAllowed(staff("hidden", case=case.id))
    if svc.settings.transport == "twilio" and not svc.settings.public_base_url:
        raise NotAllowed(staff("no_public_url"))
    if under_way(session, case, now) is not None:
        raise NotAllowed(staff("under_way", case=case.id))
    if case.status in UNOWNED_STATUSES:
        operations.acknowledge(svc, session, case, actor, now)
    callback = Callback(escalation_id=case.id, nurse_phone=actor.phone, requested_by=actor.label,
                        status=CallbackStatus.queued, requested_at=now)
    session.add(callback)
    session.flush()
    message = queue_call(session, to=actor.phone, say=f"Callback for case {case.id}: ringing {actor.name} first",
                         kind="callback", now=now, patient_id=case.patient_id, escalation_id=case.id,
                         url=NURSE_LEG + _query(callback), status_url=STATUS + _query(callback))
    callback.message_id = message.id
    case.updated_at = now
    audit(session, case, "callback_requested", now, actor=actor.label,
          detail=f"callback {callback.id}: ringing {actor.name} at {mask(actor.phone)}, then the patient, "
                 "from the clinic number")
    log.info("callback.requested case=%s callback=%s nurse=%s", case.id, callback.id, mask(actor.phone))
    return callback


def under_way(session: Session, case: Escalation, now: datetime) -> Callback | None:
    """The case's callback still in progress, if any (one at a time: never two calls for one request). One
    Twilio never reported the end of, past its limit, is over: ended here, so a new one may start."""
    found = session.scalars(select(Callback).where(Callback.escalation_id == case.id,
                                                   Callback.status.in_(UNDER_WAY))
                            .order_by(Callback.id.desc()).limit(1)).first()
    if found is None:
        return None
    since = found.nurse_answered_at or found.requested_at
    if now - since < (RINGING_LIMIT if found.nurse_answered_at is None else TALKING_LIMIT):
        return found
    _end(session, case, found, "no_word", now, "")
    audit(session, case, "callback_ended", now, detail=f"callback {found.id}: {OUTCOME_WORDS['no_word']}")
    return None


# --- the legs -------------------------------------------------------------------------------------------


def nurse_answered(svc: Services, session: Session, callback: Callback, call_sid: str, now: datetime) -> Step:
    case, patient = _case(session, callback)
    callback.nurse_call_sid = callback.nurse_call_sid or call_sid
    if case.status == CaseStatus.resolved:
        return _end(session, case, callback, "case_closed", now, staff("case_closed", case=case.id))
    callback.status, callback.nurse_answered_at = CallbackStatus.whispered, now
    audit(session, case, "callback_nurse_answered", now, actor=callback.requested_by, detail=f"callback {callback.id}")
    return Step(whisper(svc, session, case, patient), PRESS)


def whisper(svc: Services, session: Session, case: Escalation, patient: Patient) -> str:
    """Case number, level, red flags, and a Spanish-speaking patient noted: what the nurse needs before talking."""
    flow = _flow(svc, session, case)
    flags = ", ".join(flow.red_flags[f].label for f in case.red_flags if f in flow.red_flags) or case.reason
    speaks = "" if patient.language == "en" else (
        staff("spanish") if patient.language == "es" else f" Speaks {LANGUAGE_NAMES.get(patient.language)}.")
    return staff("whisper", clinic=svc.settings.clinic_name, case=case.id, level=LEVEL_WORDS[Level(case.level)],
                 flags=flags, spanish=speaks)


def pressed(svc: Services, session: Session, callback: Callback, digits: str, now: datetime) -> Step:
    case, patient = _case(session, callback)
    if callback.status != CallbackStatus.whispered:  # ended meanwhile (resolved, or the status callback came first)
        return Step(staff("no_key"))
    if digits != "1":
        return _end(session, case, callback, "not_connected", now, staff("no_key"))
    if case.status == CaseStatus.resolved:
        return _end(session, case, callback, "case_closed", now, staff("case_closed", case=case.id))
    assert patient.phone is not None  # request() refuses a hidden number
    callback.status = CallbackStatus.dialling
    audit(session, case, "callback_dialling", now, actor=callback.requested_by,
          detail=f"callback {callback.id}: dialling the patient from the clinic number")
    return Step(staff("calling"), DIAL, dial=patient.phone)


def patient_answered(svc: Services, session: Session, callback: Callback, now: datetime) -> Step:
    """The patient picked up: they hear who is calling, in their language, before the nurse is connected."""
    case, patient = _case(session, callback)
    callback.patient_answered_at = callback.patient_answered_at or now
    hello = _patient_words(svc, session, case, patient, "voice_callback_hello")
    return Step(hello or "", CONNECT, language=patient.language)


def dialled(svc: Services, session: Session, callback: Callback, status: str, seconds: int | None,
            now: datetime) -> Step:
    case, patient = _case(session, callback)
    if status in TALKED:
        callback.talk_seconds = seconds
        first_contact(case, callback.patient_answered_at or now, "voice")
        audit(session, case, "callback_connected", now, actor=callback.requested_by,
              detail=f"callback {callback.id}: talked {duration(seconds)}")
        _end(session, case, callback, "talked", now, "")
        return Step(staff("talked"))
    audit(session, case, "callback_patient_no_answer", now, actor=callback.requested_by,
          detail=f"callback {callback.id}: {status or 'no answer'}")
    _end(session, case, callback, "patient_no_answer", now, "")
    queue_sms(session, to=callback.nurse_phone, body=staff("patient_missed", case=case.id), kind="callback_note",
              now=now, patient_id=case.patient_id, escalation_id=case.id)
    if _textable(patient):
        return Step(staff("no_answer"), OFFER)
    return Step(staff("no_answer_no_text"))


def text_offer(svc: Services, session: Session, callback: Callback, digits: str, now: datetime) -> Step:
    """After no answer, 1 texts the patient (in their language) that a nurse tried to call."""
    case, patient = _case(session, callback)
    body = _patient_words(svc, session, case, patient, "callback_missed")
    if digits != "1" or callback.outcome != "patient_no_answer" or not _textable(patient) or body is None:
        return Step(staff("not_texted"))
    assert patient.phone is not None
    queue_sms(session, to=patient.phone, body=body, kind="notice", now=now, patient_id=patient.id,
              conversation_id=case.conversation_id, escalation_id=case.id, key="callback_missed")
    audit(session, case, "callback_texted", now, actor=callback.requested_by,
          detail=f"callback {callback.id}: texted the patient that a nurse tried to call")
    return Step(staff("texted"))


def nurse_leg_ended(svc: Services, session: Session, callback: Callback, status: str, seconds: int | None,
                    now: datetime) -> None:
    """Twilio's status callback for the nurse's call: how the attempt ended, and how long the nurse was on."""
    case, _ = _case(session, callback)
    if callback.status == CallbackStatus.queued:  # the nurse's phone never answered (busy, no answer, failed)
        _end(session, case, callback, "nurse_no_answer", now, "")
    elif callback.status == CallbackStatus.whispered:
        _end(session, case, callback, "not_connected", now, "")
    elif callback.status == CallbackStatus.dialling:  # hung up while the patient's phone rang (the dial may report)
        _end(session, case, callback, "nurse_hung_up", now, "")
    audit(session, case, "callback_ended", now, actor=callback.requested_by,
          detail=f"callback {callback.id}: {OUTCOME_WORDS.get(callback.outcome or '', callback.outcome)}; "
                 f"nurse's call {status or 'ended'}, {duration(seconds)}")


def duration(seconds: int | None) -> str:
    if seconds is None:
        return "duration unknown"
    minutes, rest = divmod(max(seconds, 0), 60)
    return f"{minutes} min {rest:02d} s" if minutes else f"{rest} s"


# --- the outbox's hooks: a call to the nurse that could not be placed ----------------------------------


def call_not_placed(session: Session, message: Message, error: SendError, now: datetime) -> None:
    """Failure hook: the nurse's call failed for good; the attempt ends and the nurse is told by text."""
    if message.kind != "callback":
        return
    callback = session.scalars(select(Callback).where(Callback.message_id == message.id)).first()
    if callback is None or callback.status not in UNDER_WAY:
        return
    case, _ = _case(session, callback)
    _end(session, case, callback, "failed", now, "")
    audit(session, case, "callback_failed", now, detail=f"callback {callback.id}: {error.reason}")
    queue_sms(session, to=callback.nurse_phone, body=staff("call_failed", case=case.id), kind="callback_note",
              now=now, patient_id=case.patient_id, escalation_id=case.id)


def no_late_retry(session: Session, message: Message, error: SendError, now: datetime) -> None:
    """Retry hook: retried within RETRY_WINDOW only; later the nurse would be rung out of the blue."""
    if message.kind == "callback" and now - message.created_at >= RETRY_WINDOW:
        message.status, message.next_attempt_at = "failed", None
        call_not_placed(session, message, error, now)


def install(svc: Services) -> None:
    svc.outbox.failure_hooks.append(call_not_placed)
    svc.outbox.retry_hooks.append(no_late_retry)


# --- helpers --------------------------------------------------------------------------------------------


def _case(session: Session, callback: Callback) -> tuple[Escalation, Patient]:
    case = session.get(Escalation, callback.escalation_id)
    assert case is not None
    patient = session.get(Patient, case.patient_id)
    assert patient is not None
    return case, patient


def _end(session: Session, case: Escalation, callback: Callback, outcome: str, now: datetime, say: str) -> Step:
    """The attempt is over. A later, surer word (the dial's own status) may still correct `nurse_hung_up`."""
    if callback.outcome is None or callback.outcome == "nurse_hung_up":
        callback.outcome = outcome
    callback.status, callback.ended_at = CallbackStatus.ended, callback.ended_at or now
    case.updated_at = now
    log.info("callback.ended case=%s callback=%s outcome=%s", case.id, callback.id, callback.outcome)
    return Step(say)


def _flow(svc: Services, session: Session, case: Escalation) -> Flow:
    conversation = session.get(Conversation, case.conversation_id) if case.conversation_id else None
    if conversation is None:
        return svc.flows.current().flow
    return svc.flows.pinned(session, conversation.flow_id, conversation.flow_version).flow


def _patient_words(svc: Services, session: Session, case: Escalation, patient: Patient, name: str) -> str | None:
    """A patient-facing phrase from the flow, in the patient's language (a conversation pinned to a version
    from before the phrase existed gets the current flow's)."""
    text = getattr(_flow(svc, session, case).messages, name) or getattr(svc.flows.current().flow.messages, name)
    return localize(text, patient.language, svc.context) if text else None


def _textable(patient: Patient) -> bool:
    return patient.phone is not None and not patient.opted_out


def calling_you(actor: Actor, case: Escalation) -> str:
    return staff("calling_you", phone=pretty(actor.phone), case=case.id)
