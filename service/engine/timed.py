"""Inputs from the clock, beside the texts step() handles: a check-in due, its reminder, its end
unanswered, and silence in the middle of the red-flag screen. Pure, like step(): `now` is given."""

from __future__ import annotations

from datetime import datetime

from .flow import Flow, FreeText, Question
from .render import Context, Env, sms_question, sms_reply_hint
from .state import ACTIVE, DONE, Message, Result, State
from .step import goto_outcome, phrase


def begin_checkin(flow: Flow, state: State, ask: str, context: Context | None = None) -> Result:
    """A scheduled check-in is due: ask its question; the reply runs through step()."""
    state = state.evolve(node=ask, status=ACTIVE, misses=0)
    return Result(state, [Message(ask, sms_question(flow, ask, state.language, context))], [])


def remind_checkin(flow: Flow, state: State, context: Context | None = None) -> Result:
    """No reply to a check-in yet: one reminder saying how to answer; the question stays open."""
    asking = isinstance(flow.nodes.get(state.node or ""), Question)
    hint = sms_reply_hint(flow, state.node, state.language) if asking else ""  # type: ignore[arg-type]
    return Result(state, [phrase(flow, "checkin_reminder", state, Env(context or {}), options=hint)], [])


REMIND, GIVE_UP = "remind", "give_up"


def awaiting_screening(flow: Flow, state: State) -> bool:
    """Waiting for an answer inside the red-flag screen, where silence must not be the end."""
    node = flow.nodes.get(state.node) if state.node else None
    return state.status == ACTIVE and isinstance(node, (Question, FreeText)) and node.screening


def silence_timer(flow: Flow, channel: str, state: State, now: datetime, stage: int) -> tuple[datetime | None, int]:
    """(due, stage) of the silence timer whenever a conversation moves: (re)started inside the red-flag
    screen on SMS, else left as it is. `now` is given: the engine reads no clock."""
    if channel == "sms" and awaiting_screening(flow, state):
        return now + flow.silence.reminder_after, 0
    return None, stage


def on_silence(flow: Flow, state: State, stage: str, context: Context | None = None) -> Result:
    """The patient stopped replying mid-screen: one reminder, then a nurse callback (incomplete screen)."""
    if not awaiting_screening(flow, state):
        return Result(state, [], [])
    env = Env(context or {}, "sms")
    if stage == REMIND:
        # The reminder names no symptom (privacy): the question it refers to is just above it.
        return Result(state, [phrase(flow, "silence_reminder", state, env)], [])
    reason = "could not complete screening: patient stopped replying"
    return goto_outcome(flow, state, flow.unclear_outcome, (), reason, (), env)


def end_checkin(state: State, ask: str) -> Result:
    """No reply to a check-in or its reminder: the question is no longer open (no more follow-ups)."""
    if state.node == ask and state.status == ACTIVE:
        return Result(state.evolve(node=None, status=DONE, misses=0), [], [])
    return Result(state, [], [])
