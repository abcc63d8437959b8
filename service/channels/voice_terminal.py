"""A phone call in the terminal: the voice runtime exactly as Twilio drives it, prompts printed as heard.

Type a key (0-9, *, #) to press it, words to say them, or just Enter for silence. The nurse's side
of a transfer is asked as a question (did the nurse answer?), and a voicemail is typed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from ..engine.phone_turns import DIAL, GATHER, RECORD, Heard, VoiceTurn
from ..phones import mask
from ..runtime.calls import call_input, dial_finished, start_call, voicemail_left
from ..services import Services

Read = Callable[[str], str | None]  # prompt -> a line, or None when the caller hangs up (Ctrl-D)
Echo = Callable[[str], None]


def heard_from_line(line: str) -> Heard:
    line = line.strip()
    if len(line) == 1 and line in "0123456789*#":
        return Heard(digits=line)
    return Heard(speech=line or None, confidence=1.0 if line else None)


def play_call(svc: Services, phone: str | None, read: Read, echo: Echo) -> str:
    """Run one call to its end; returns the CallSid (to look the conversation up)."""
    call_sid = "CA" + uuid.uuid4().hex
    turn: VoiceTurn | None = start_call(svc, call_sid=call_sid, phone=phone)
    while turn is not None:
        for text in turn.say:
            echo(f"line says> {text}")
        turn = _next(svc, call_sid, phone, turn, read, echo)
    return call_sid


def _next(svc: Services, call_sid: str, phone: str | None, turn: VoiceTurn, read: Read, echo: Echo
          ) -> VoiceTurn | None:
    if turn.then == GATHER:
        line = read("you (key, words, or Enter for silence)> ")
        if line is None:
            echo("[you hung up]")
            return None
        return call_input(svc, call_sid=call_sid, phone=phone, step_number=turn.step, at=turn.at, tries=turn.tries,
                          heard=heard_from_line(line))
    if turn.then == DIAL:
        echo(f"[ringing the on-call nurse at {mask(turn.nurse_phone)}]")
        answer = read("does the nurse answer and press 1? (y/n)> ")
        if answer is None:
            echo("[you hung up]")
            return None
        status = "completed" if answer.strip().lower().startswith("y") else "no-answer"
        if status == "completed":
            echo("[you talk with the nurse, then the nurse hangs up]")
        return dial_finished(svc, call_sid=call_sid, case_id=turn.case_id, step_number=turn.step, status=status)
    if turn.then == RECORD:
        echo("[beep]")
        message = read("your voicemail for the nurse (Enter for none)> ")
        if not message:
            for text in turn.finally_say:
                echo(f"line says> {text}")
            echo("[the line hangs up]")
            return None
        return voicemail_left(svc, call_sid=call_sid, case_id=turn.case_id,
                              recording_url=f"https://api.twilio.com/simulated/{call_sid}/recording",
                              recording_sid="RE" + uuid.uuid4().hex)
    echo("[the line hangs up]")
    return None


def terminal_call(svc: Services, phone: str | None, echo: Echo) -> None:
    """`flask --app service simulate --voice`: one call, keys and words read from stdin."""
    from sqlalchemy import select

    from ..models import Conversation

    def read(prompt: str) -> str | None:
        try:
            return input(prompt)
        except EOFError:
            return None

    echo("You are calling the nurse line. Outbound texts and pages print as '--- SMS'.")
    call_sid = play_call(svc, phone, read, echo)
    with svc.factory() as session:
        conversation = session.scalars(select(Conversation).where(Conversation.call_sid == call_sid)).first()
        if conversation is not None:
            echo(f"[disposition: {conversation.disposition} / level: {conversation.level} / "
                 f"outcome: {conversation.outcome}]")
