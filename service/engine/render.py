"""How a node, a question or a message reads on a channel: the language, the placeholders, and how to answer
(SMS: "Reply YES or NO."; a call: "If Yes, press 1."). Pure, like the engine that uses it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .answers import is_yes_no
from .flow import Flow, Question

Context = Mapping[str, str]


class _Safe(dict):  # type: ignore[type-arg]
    def __missing__(self, key: str) -> str:
        return ""


def localize(text: Mapping[str, str], lang: str, context: Context | None = None) -> str:
    body = text.get(lang) or text.get("en") or next(iter(text.values()))
    return body.format_map(_Safe(context or {}))


def node_text(flow: Flow, node_id: str, channel: str, lang: str, context: Context | None = None) -> str:
    node = flow.nodes[node_id]
    override = getattr(node.channels, channel, None) if channel in ("sms", "voice") else None
    return localize(override or node.text, lang, context)


def sms_question(flow: Flow, node_id: str, lang: str, context: Context | None = None) -> str:
    node = flow.nodes[node_id]
    body = node_text(flow, node_id, "sms", lang, context)
    if not isinstance(node, Question):
        return body
    return f"{body} {sms_reply_hint(flow, node_id, lang)}"


def sms_reply_hint(flow: Flow, node_id: str, lang: str) -> str:
    """How to answer a question by text: 'Reply YES or NO.' or 'Reply 1 Better, 2 Same, 3 Worse.'"""
    node = flow.nodes[node_id]
    assert isinstance(node, Question), node_id
    if is_yes_no(node):
        return localize(flow.messages.sms_yes_no, lang)
    options = ", ".join(f"{i} {localize(c.label, lang)}" for i, c in enumerate(node.choices, 1))
    return localize(flow.messages.sms_choices, lang, {"options": options})


@dataclass(frozen=True)
class Env:
    """What rendering needs besides the flow: placeholder values and the channel (sms | voice)."""

    values: Context
    channel: str = "sms"
    opted_out: bool = False  # the patient opted out of texts: no replies, but red flags still reach a nurse
    with_nurse: bool = False  # a nurse has (or was paged for) the patient's open case


def voice_question(flow: Flow, node_id: str, lang: str, context: Context | None = None) -> str:
    """The question as a caller hears it: the voice wording, then each keypad option."""
    node = flow.nodes[node_id]
    body = node_text(flow, node_id, "voice", lang, context)
    if not isinstance(node, Question):
        return body
    return " ".join([body, *voice_keys(flow, node, lang)])


def voice_keys(flow: Flow, question: Question, lang: str) -> list[str]:
    """Each option with its key, as a caller hears them: "If Yes, press 1." """
    return [localize(flow.messages.voice_option, lang, {"label": localize(c.label, lang), "key": str(i)})
            for i, c in enumerate(question.choices, 1)]


def prompt(flow: Flow, node_id: str, lang: str, env: Env) -> str:
    if env.channel == "voice":
        return voice_question(flow, node_id, lang, env.values)
    return sms_question(flow, node_id, lang, env.values)
