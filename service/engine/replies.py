"""The small replies every engine input builds from: a flow message, the question asked again, a confirming
question, the crisis hold's answer. Below step.py, inputs.py and timed.py, so each can use them."""

from __future__ import annotations

from .answers import NO, YES
from .flow import Choice, Flow, Question
from .render import Env, localize, prompt, voice_keys
from .state import ACTIVE, ForwardToNurse, Message, Result, State

# A confirming question is a yes/no question of its own ("1"/"yes"/"sí" and "2"/"no"/"nope").
YES_NO = Question(type="question", text={"en": "confirm"}, choices=[
    Choice(id=YES, label={"en": "Yes", "es": "Sí"}, next="-"), Choice(id=NO, label={"en": "No", "es": "No"}, next="-")])


def phrase(flow: Flow, name: str, state: State, env: Env, **extra: str) -> Message:
    """One of the flow's own messages (messages:), in the conversation's language."""
    return Message(name, localize(getattr(flow.messages, name), state.language, {**env.values, **extra}))


def repeat(flow: Flow, state: State, env: Env) -> list[Message]:
    """The question the patient is at, asked again (nothing when none is out)."""
    if state.node is None or state.status != ACTIVE:
        return []
    return [Message(state.node, prompt(flow, state.node, state.language, env))]


def confirm_question(flow: Flow, flag_id: str, state: State, env: Env) -> Message:
    flag = flow.red_flags[flag_id]
    assert flag.confirm is not None, flag_id  # lint: a flag with an unsure `near` rule has a confirm
    question = localize(flag.confirm, state.language, env.values)
    if env.channel == "voice":  # keys, not "reply YES": 1 is yes and 2 is no, as at every yes/no question
        question = " ".join([question, *voice_keys(flow, YES_NO, state.language)])
    else:
        question = f"{question} {localize(flow.messages.sms_yes_no, state.language)}"
    return Message(f"confirm_{flag_id}", question)


def held(flow: Flow, state: State, text: str, env: Env) -> Result:
    """After a crisis: no automated questions; the nurse sees every word, and 988 and 911 are repeated."""
    return Result(state, [phrase(flow, "held", state, env)], [ForwardToNurse(text)])


def merge(old: tuple[str, ...], new: tuple[str, ...]) -> tuple[str, ...]:
    return old + tuple(f for f in new if f not in old)
