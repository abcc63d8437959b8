"""Two inputs that answer no question: a photo or file with no words (MMS), and a text that reached us late
(spooled in an outage while the conversation moved on). step() hands them here; their red flags and
keywords count as ever."""

from __future__ import annotations

from collections.abc import Callable

from .flow import Flow
from .redflags import Finding, detect
from .render import Env
from .replies import confirm_question, held, merge, phrase, repeat
from .state import Result, State

MEDIA_QUOTE = "(a photo or file, no words)"  # what the nurse is told of it (the case page shows it)
LATE_RED_FLAG = "red flag in a text that reached us late (the line was down)"

# step.py's red-flag path (flow, state, findings, text, env, reason): passed in, as step.py imports this module.
RedFlagPath = Callable[[Flow, State, list[Finding], str, Env, str], Result]


def media_only(flow: Flow, state: State, env: Env) -> Result:
    """A photo or file and no words: nobody can look at it here, so it answers nothing and changes nothing;
    the patient is asked in words (with the 911 line), and whatever was out is asked again."""
    if state.held:
        return held(flow, state, MEDIA_QUOTE, env)
    said = phrase(flow, "media_only" if flow.messages.media_only else "unclear", state, env)
    kind, _, subject = (state.confirm or "").partition(":")
    if kind == "flag":  # the confirming question is still out ("no:": the question itself, asked again)
        return Result(state, [said, confirm_question(flow, subject, state, env)], [])
    return Result(state, [said, *repeat(flow, state, env)], [])


def late_text(flow: Flow, state: State, text: str, env: Env, red_flag: RedFlagPath) -> Result:
    """A text that waited in the outage spool while the conversation moved on: it was meant for an earlier
    question, so it answers none; a red flag in it is one all the same."""
    sure = [f for f in detect(flow, text, likely=True) if f.sure]
    if sure and (sure[0].level.disposition == "emergency" or state.node is None):
        return red_flag(flow, state.evolve(confirm=None), sure, text, env, LATE_RED_FLAG)
    if not sure:
        return Result(state, [], [])
    state = state.evolve(red_flags=merge(state.red_flags, tuple(f.flag for f in sure)),  # its floor, as mid-screen
                         quotes=merge(state.quotes, tuple(f.quote for f in sure)))
    return Result(state, [phrase(flow, "noted", state, env), *repeat(flow, state, env)], [])
