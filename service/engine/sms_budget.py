"""Every text a patient can get by SMS, rendered as it is sent and counted in segments (segments.py).

What goes out as one SMS: each message the engine returns (a question with its "Reply YES or NO.", an
info text, an outcome; "Just to be sure:" or "Sorry, I didn't understand that." joined to the question
or its hint), and a webhook's replies are packed into as few texts as keep each within the budget
(channels/twilio_http.split_for_sms, segments.pack). So a flow whose every message fits the budget
sends no SMS past it. Placeholders are filled with their longest value (`segment_budget.longest`).

Not counted: `relay` (the nurse's own words), the voice wordings, and fragments that only go out
inside another text (sms_yes_no, sms_choices, just_to_be_sure, option labels).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from .flow import Flow, FreeText, Info, Outcome, Question
from .problem import Problem
from .render import localize, node_text, sms_question, sms_reply_hint
from .segments import PART, UCS2, Count, count, first_outside_gsm7, pack

# The flow's own messages are texts of their own, counted, except what is only spoken (voice_*; but the head
# and foot of the advice texted after a call are paragraphs of that text), what only goes out inside another
# text (counted there), and the nurse's relayed words. A message added to the flow is counted unless named here.
_SPOKEN_BUT_TEXTED = ("voice_advice_header", "voice_advice_footer")
_NOT_A_TEXT_OF_ITS_OWN = ("sms_yes_no", "sms_choices", "just_to_be_sure", "relay")
REASKED = "re-asked after 'Just to be sure:'"
UNCLEAR = "after 'didn't understand'"


@dataclass(frozen=True)
class SmsText:
    path: tuple[str | int, ...]  # where it is written, for file:line
    name: str  # how the report names it
    lang: str
    body: str
    variant: str = ""  # "" for the text as first sent, else how it is sent again
    size: Count = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "size", count(self.body))


def sms_messages(flow: Flow) -> list[str]:
    """The names of the flow's messages that a patient can get by SMS as texts of their own."""
    return [name for name in type(flow.messages).model_fields
            if name not in _NOT_A_TEXT_OF_ITS_OWN and (not name.startswith("voice_") or name in _SPOKEN_BUT_TEXTED)]


def longest_values(flow: Flow) -> dict[str, str]:
    longest = flow.segment_budget.longest
    letter = "á" if longest.unicode else "x"
    return {"clinic_name": letter * longest.clinic_name, "clinic_phone": letter * longest.clinic_phone}


def _text_path(flow: Flow, node_id: str) -> tuple[str | int, ...]:
    node = flow.nodes[node_id]
    return ("nodes", node_id, "channels", "sms") if node.channels.sms is not None else ("nodes", node_id, "text")


def sms_texts(flow: Flow, lang: str) -> Iterator[SmsText]:
    """Every text of the flow a patient can get by SMS in `lang`, as sent, placeholders at their longest."""
    values = longest_values(flow)
    messages = flow.messages
    questions = [node_id for node_id, node in flow.nodes.items() if isinstance(node, Question)]
    hints = [sms_reply_hint(flow, q, lang) for q in questions]
    for name in sms_messages(flow):
        text = getattr(messages, name)
        if text is None:
            continue
        extra = {"options": max(hints, key=len, default="")} if name == "checkin_reminder" else {}
        yield SmsText(("messages", name), f"messages.{name}", lang, localize(text, lang, {**values, **extra}))
    unclear = localize(messages.unclear, lang, values)
    just = localize(messages.just_to_be_sure, lang, values) if messages.just_to_be_sure else None
    for node_id, node in flow.nodes.items():
        if isinstance(node, (Question, FreeText)):
            asked = sms_question(flow, node_id, lang, values)
            yield SmsText(_text_path(flow, node_id), node_id, lang, asked)
            if isinstance(node, Question) and just:
                yield SmsText(_text_path(flow, node_id), node_id, lang, f"{just} {asked}", REASKED)
            if isinstance(node, Question) and node.hint:
                yield SmsText(("nodes", node_id, "hint"), node_id, lang,
                              f"{unclear} {localize(node.hint, lang, values)}", UNCLEAR)
        elif isinstance(node, (Info, Outcome)):
            yield SmsText(_text_path(flow, node_id), node_id, lang, node_text(flow, node_id, "sms", lang, values))
    yes_no = localize(messages.sms_yes_no, lang)
    for flag_id, flag in flow.red_flags.items():
        if flag.confirm is not None:
            yield SmsText(("red_flags", flag_id, "confirm"), f"red_flags.{flag_id}.confirm", lang,
                          f"{localize(flag.confirm, lang, values)} {yes_no}")


def over_budget(flow: Flow) -> Iterator[tuple[tuple[str | int, ...], str, str]]:
    """(path, reason, language) for each text past the flow's segment budget, its worst form once."""
    budget = flow.segment_budget.per_text
    try:
        texts = [text for lang in flow.languages for text in sms_texts(flow, lang)]
    except (ValueError, KeyError, IndexError, AttributeError):
        return  # a broken placeholder: check_languages names it, and nothing can be counted until it is fixed
    worst: dict[tuple[tuple[str | int, ...], str], SmsText] = {}
    for text in texts:
        key = (text.path, text.lang)
        if text.size.segments > budget and (key not in worst or text.size.segments > worst[key].size.segments):
            worst[key] = text
    for (path, lang), text in worst.items():
        how = f", {text.variant}," if text.variant else ""
        size = text.size
        why = f" ('{first_outside_gsm7(text.body)}' is not in GSM-7)" if size.encoding == UCS2 else ""
        yield path, (f"'{lang}' text{how} is {size.units} characters of {size.encoding}{why}: {size.segments} SMS "
                     f"segments of {PART[size.encoding]}, over the budget of {budget} (segment_budget.per_text); "
                     f"shorten it, or send it as several texts (info nodes in sequence)"), lang


def check_segment_budget(flow: Flow) -> Iterator[Problem]:
    """The lint rule (lint.RULES): every text a patient can get by SMS fits `segment_budget.per_text`."""
    yield from (Problem(path, reason, lang) for path, reason, lang in over_budget(flow))


# --- the longest conversation ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Path:
    segments: int
    texts: int
    nodes: tuple[str, ...]


def _enter(flow: Flow, node_id: str, lang: str, values: dict[str, str]) -> tuple[list[str], list[str]]:
    """What entering node_id sends (info nodes chained to the next question or outcome), and those nodes."""
    bodies: list[str] = []
    sent: list[str] = []
    for _ in range(len(flow.nodes)):
        node = flow.nodes[node_id]
        sent.append(node_id)
        if isinstance(node, Info):
            bodies.append(node_text(flow, node_id, "sms", lang, values))
            node_id = node.next
            continue
        if isinstance(node, (Question, FreeText)):
            bodies.append(sms_question(flow, node_id, lang, values))
        else:
            bodies.append(node_text(flow, node_id, "sms", lang, values))
        break
    return bodies, sent


def longest_path(flow: Flow, lang: str) -> Path:
    """The conversation from a first text ("hi") to an outcome that sends the most segments, each reply
    packed as a webhook sends it; the first reply carries the privacy notice."""
    values = longest_values(flow)
    budget = flow.segment_budget.per_text
    memo: dict[str, Path] = {}
    on_stack: set[str] = set()

    def reply(bodies: list[str], sent: list[str], rest: Path) -> Path:
        texts = pack(bodies, budget)
        return Path(sum(count(text).segments for text in texts) + rest.segments, len(texts) + rest.texts,
                    (*sent, *rest.nodes))

    def after(node_id: str) -> Path:
        """The most a patient can still be sent once asked the question node_id."""
        node = flow.nodes[node_id]
        if not isinstance(node, (Question, FreeText)):
            return Path(0, 0, ())
        if node_id not in memo:
            on_stack.add(node_id)
            targets = [c.next for c in node.choices] if isinstance(node, Question) else [node.next]
            paths = [Path(0, 0, ())]
            for target in dict.fromkeys(targets):
                bodies, sent = _enter(flow, target, lang, values)
                if sent[-1] not in on_stack:  # a loop back (a check-in's "worse") is not a longer conversation
                    paths.append(reply(bodies, sent, after(sent[-1])))
            on_stack.discard(node_id)
            memo[node_id] = max(paths, key=lambda p: (p.segments, p.texts))
        return memo[node_id]

    bodies, sent = _enter(flow, flow.start, lang, values)
    bodies.insert(1, localize(flow.messages.privacy, lang, values))
    return reply(bodies, sent, after(sent[-1]))
