"""Load-time safety rules for a flow. Each rule returns problems; none may be left for a patient to find."""

from __future__ import annotations

import re
import string
from collections.abc import Iterator

from .flow import Choice, Flow, FreeText, Info, Level, Outcome, Question
from .lint_patterns import check_phrases, check_unless
from .problem import Problem
from .sms_budget import check_segment_budget

MAX_KEYPAD_CHOICES = 8  # 9 repeats the question and 0 reaches a nurse on the phone
CHECKIN_MAX_CHARS = 160  # TCPA healthcare exemption (references.md, FCC 15-72)


def successors(node: Question | FreeText | Info | Outcome) -> list[str]:
    if isinstance(node, Question):
        return [choice.next for choice in node.choices]
    if isinstance(node, (FreeText, Info)):
        return [node.next]
    return []


def entry_points(flow: Flow) -> list[str]:
    """Nodes a conversation can be at without being led there by an answer."""
    entries = [flow.start, flow.unclear_outcome, flow.nurse_outcome]
    entries += list(flow.level_outcomes.values())
    entries += [flag.outcome for flag in flow.red_flags.values() if flag.outcome]
    if flow.scope is not None:
        entries.append(flow.scope.ask)
    openings = flow.openings
    entries += [o for o in (openings.child_outcome, openings.admin_outcome, openings.other_outcome) if o]
    for node in flow.nodes.values():
        if isinstance(node, Outcome):
            entries += [plan.ask for plan in node.checkins]
    return entries


def _reachable(flow: Flow, roots: list[str]) -> set[str]:
    seen: set[str] = set()
    todo = [root for root in roots if root in flow.nodes]
    while todo:
        node_id = todo.pop()
        if node_id in seen:
            continue
        seen.add(node_id)
        todo += [n for n in successors(flow.nodes[node_id]) if n in flow.nodes]
    return seen


def outcomes_from(flow: Flow, node_id: str) -> set[str]:
    """Every outcome a patient can end at from node_id."""
    return {n for n in _reachable(flow, [node_id]) if isinstance(flow.nodes[n], Outcome)}


def check_targets(flow: Flow) -> Iterator[Problem]:
    def missing(path: tuple[str | int, ...], target: str, what: str = "node") -> Iterator[Problem]:
        if target not in flow.nodes:
            yield Problem(path, f"goes to {what} '{target}', which does not exist")

    yield from missing(("start",), flow.start)
    for key in ("unclear_outcome", "nurse_outcome"):
        target = getattr(flow, key)
        yield from missing((key,), target)
        node = flow.nodes.get(target)
        if node is not None and not (isinstance(node, Outcome) and node.level.pages_nurse):
            yield Problem((key,), f"'{target}' must be an outcome that pages a nurse")
    for flag_id, flag in flow.red_flags.items():
        if flag.outcome is None:
            continue
        path = ("red_flags", flag_id, "outcome")
        yield from missing(path, flag.outcome)
        node = flow.nodes.get(flag.outcome)
        if node is not None and not (isinstance(node, Outcome) and node.level is flag.level):
            yield Problem(path, f"'{flag.outcome}' must be an outcome of level '{flag.level.value}'")
    for key in ("child_outcome", "admin_outcome", "other_outcome"):
        target = getattr(flow.openings, key)
        if target is not None:
            yield from missing(("openings", key), target)
    if flow.scope is not None:
        yield from missing(("scope", "ask"), flow.scope.ask)
        ask = flow.nodes.get(flow.scope.ask)
        if ask is not None and not (isinstance(ask, Question) and {c.id for c in ask.choices} == {"yes", "no"}):
            yield Problem(("scope", "ask"), f"'{flow.scope.ask}' must be a yes/no question")
    for level, target in flow.level_outcomes.items():
        yield from missing(("level_outcomes", level.value), target)
        node = flow.nodes.get(target)
        if node is not None and not (isinstance(node, Outcome) and node.level is level):
            yield Problem(("level_outcomes", level.value), f"'{target}' must be an outcome of level '{level.value}'")
    for node_id, node in flow.nodes.items():
        if isinstance(node, Question):
            for index, choice in enumerate(node.choices):
                path = ("nodes", node_id, "choices", index)
                yield from missing(path + ("next",), choice.next)
                if choice.red_flag is not None and choice.red_flag not in flow.red_flags:
                    yield Problem(path + ("red_flag",),
                                  f"names red flag '{choice.red_flag}', which is not in red_flags")
        elif isinstance(node, (FreeText, Info)):
            yield from missing(("nodes", node_id, "next"), node.next)
        else:
            for index, plan in enumerate(node.checkins):
                path = ("nodes", node_id, "checkins", index, "ask")
                yield from missing(path, plan.ask)
                if plan.ask in flow.nodes and not isinstance(flow.nodes[plan.ask], Question):
                    yield Problem(path, f"check-in '{plan.ask}' must be a question with choices")


def check_reachable(flow: Flow) -> Iterator[Problem]:
    reachable = _reachable(flow, entry_points(flow))
    for node_id in flow.nodes:
        if node_id not in reachable:
            yield Problem(("nodes", node_id), "unreachable: no path from start or any check-in leads here")


def check_every_path_ends(flow: Flow) -> Iterator[Problem]:
    for node_id, node in flow.nodes.items():
        if not isinstance(node, Outcome) and not outcomes_from(flow, node_id):
            yield Problem(("nodes", node_id), "no path from here reaches an outcome (a loop or dead end)")


def _levels(flow: Flow, node_id: str) -> list[Level]:
    return [flow.outcome(n).level for n in outcomes_from(flow, node_id)]


def check_red_flags_escalate(flow: Flow) -> Iterator[Problem]:
    for flag_id, flag in flow.red_flags.items():
        path = ("red_flags", flag_id)
        if not flag.level.pages_nurse:
            yield Problem(path + ("level",), f"a red flag must page a nurse; '{flag.level.value}' does not")
        if flag.level not in flow.level_outcomes:
            yield Problem(path + ("level",), f"level_outcomes has no outcome for '{flag.level.value}'")
    for node_id, node in flow.nodes.items():
        if not isinstance(node, Question):
            continue
        for index, choice in enumerate(node.choices):
            yield from _check_choice(flow, ("nodes", node_id, "choices", index), choice)


def _below(flag_id: str, wanted: Level, got: Level, source: str) -> str:
    return (f"red flag '{flag_id}' can end at '{got.value}', below '{wanted.value}' "
            f"that its source ({source}) requires")


def _check_choice(flow: Flow, path: tuple[str | int, ...], choice: Choice) -> Iterator[Problem]:
    if choice.red_flag is None or choice.red_flag not in flow.red_flags or choice.next not in flow.nodes:
        return
    flag = flow.red_flags[choice.red_flag]
    for level in _levels(flow, choice.next):
        if not level.pages_nurse:
            yield Problem(path, f"red-flag answer '{choice.id}' can end at '{level.value}', which escalates to no one")
            return
        if level.rank < flag.level.rank:
            yield Problem(path, _below(choice.red_flag, flag.level, level, flag.source))
            return


def check_unclear_never_lowers(flow: Flow) -> Iterator[Problem]:
    """An unfinished red-flag screen cannot be assumed benign: it gets a same-day nurse callback at least."""
    unclear = flow.nodes.get(flow.unclear_outcome)
    if isinstance(unclear, Outcome) and unclear.level.rank < Level.seen_today.rank:
        yield Problem(("unclear_outcome",),
                      f"'{flow.unclear_outcome}' is '{unclear.level.value}'; an incomplete screen needs "
                      f"'{Level.seen_today.value}' or more urgent")


def check_choices(flow: Flow) -> Iterator[Problem]:
    for node_id, node in flow.nodes.items():
        if not isinstance(node, Question):
            continue
        ids = [choice.id for choice in node.choices]
        for duplicate in sorted({i for i in ids if ids.count(i) > 1}):
            yield Problem(("nodes", node_id, "choices"), f"choice id '{duplicate}' is used twice")
        if len(node.choices) > MAX_KEYPAD_CHOICES:
            yield Problem(("nodes", node_id, "choices"),
                          f"{len(node.choices)} choices cannot all be answered by keypad "
                          f"(at most {MAX_KEYPAD_CHOICES})")


SHARED_EMERGENCIES = "universal"
_SHARED_MESSAGES = ("urgent_opening", "held", "just_to_be_sure", *(f"voice_{name}" for name in (
    "greeting", "language_offer", "press_nurse", "still_unclear", "connecting", "no_nurse", "closing", "text_offer",
    "text_hidden", "text_accepted", "text_declined", "nurse_unanswered", "voicemail_prompt", "voicemail_thanks",
    "no_voicemail", "after_nurse", "goodbye", "trouble", "advice_header", "advice_footer")))


def check_shared_emergencies(flow: Flow) -> Iterator[Problem]:
    """Every flow catches the emergencies of any complaint (flows/shared/universal.yaml)."""
    if SHARED_EMERGENCIES not in flow.include:
        yield Problem(("include",), f"every flow must include '{SHARED_EMERGENCIES}' (the emergency signs of any "
                                    f"complaint: heart attack, stroke, crisis): add `include: [{SHARED_EMERGENCIES}]`")
        return
    for name in _SHARED_MESSAGES:
        if getattr(flow.messages, name) is None:
            yield Problem(("messages", name), f"message '{name}' is missing (it comes from {SHARED_EMERGENCIES}.yaml)")


def _texts(flow: Flow) -> Iterator[tuple[tuple[str | int, ...], dict[str, str]]]:
    """Every patient-facing text with its path."""
    for key in type(flow.messages).model_fields:
        if getattr(flow.messages, key) is not None:
            yield ("messages", key), getattr(flow.messages, key)
    for flag_id, flag in flow.red_flags.items():
        if flag.confirm is not None:
            yield ("red_flags", flag_id, "confirm"), flag.confirm
    for node_id, node in flow.nodes.items():
        base = ("nodes", node_id)
        yield base + ("text",), node.text
        for channel in ("voice", "sms"):
            override = getattr(node.channels, channel)
            if override is not None:
                yield base + ("channels", channel), override
        if isinstance(node, Question):
            if node.hint is not None:
                yield base + ("hint",), node.hint
            for index, choice in enumerate(node.choices):
                yield base + ("choices", index, "label"), choice.label


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


ALLOWED_PLACEHOLDERS = {"clinic_name", "clinic_phone", "case", "options", "label", "key", "nurse", "text"}


def check_languages(flow: Flow) -> Iterator[Problem]:
    for path, text in _texts(flow):
        for lang in flow.languages:
            if not text.get(lang, "").strip():
                yield Problem(path, f"no '{lang}' text", lang)
        for lang in text:
            if lang not in flow.languages:
                yield Problem(path, f"text in '{lang}', which is not in the flow's languages", lang)
        try:
            names = {lang: _placeholders(body) for lang, body in text.items()}
        except ValueError as exc:
            yield Problem(path, f"bad placeholder: {exc}")
            continue
        for lang, found in names.items():
            unknown = found - ALLOWED_PLACEHOLDERS
            if unknown:
                yield Problem(path, f"unknown placeholder {sorted(unknown)} in '{lang}'", lang)
            reference = names.get(flow.languages[0], set())
            if found != reference:
                yield Problem(path, f"'{lang}' placeholders {sorted(found)} differ from {sorted(reference)}", lang)


def check_option_counts(flow: Flow) -> Iterator[Problem]:
    """A question offers the same options in every language: a missing one could not be chosen."""
    for node_id, node in flow.nodes.items():
        if not isinstance(node, Question):
            continue
        reference = flow.languages[0]
        expected = sum(1 for choice in node.choices if choice.label.get(reference, "").strip())
        for lang in flow.languages[1:]:
            found = sum(1 for choice in node.choices if choice.label.get(lang, "").strip())
            if found != expected:
                yield Problem(("nodes", node_id, "choices"),
                              f"{found} options in '{lang}' but {expected} in '{reference}'", lang)


EMERGENCY_NUMBER = "911"
_MUST_NAME_911 = ("help", "stop", "after_outcome", "offer_nurse", "privacy", "open_emergency", "case_acknowledged",
                  "no_nurse_reached", "held", "urgent_opening", "voice_greeting", "voice_no_nurse", "voice_goodbye",
                  "voice_trouble", "voice_nurse_unanswered", "sms_trouble", "media_only", "whatsapp_off")


def check_emergency_advice(flow: Flow) -> Iterator[Problem]:
    """Every patient-facing path says what to do in an emergency."""
    texts = [(("messages", name), getattr(flow.messages, name)) for name in _MUST_NAME_911
             if getattr(flow.messages, name) is not None]
    texts += [(("nodes", node_id, "text"), node.text) for node_id, node in flow.nodes.items()
              if isinstance(node, Outcome)]
    start = flow.nodes.get(flow.start)
    if start is not None:
        texts.append((("nodes", flow.start, "text"), start.text))
    for node_id, node in flow.nodes.items():  # a channel's own wording must keep the advice too
        if isinstance(node, Outcome) or node_id == flow.start:
            texts += [(("nodes", node_id, "channels", channel), text) for channel, text in node.channels
                      if text is not None]
    for path, text in texts:
        for lang, body in text.items():
            if EMERGENCY_NUMBER not in body:
                yield Problem(path, f"'{lang}' text does not say to call {EMERGENCY_NUMBER} in an emergency")


# Follow-up texts may be read by anyone holding the phone (HIPAA minimum necessary, references.md).
SYMPTOM_WORDS = re.compile(
    r"\b(pain\w*|back|spasm\w*|spine|muscle\w*|bladder|bowel\w*|pee|urin\w*|numb\w*|weak\w*|fever\w*|"
    r"vomit\w*|nause\w*|injur\w*|fall|fell|cancer|symptom\w*|legs?|groin|dolor\w*|espalda|vejiga|"
    r"fiebre|piernas?|entumec\w*|sintoma\w*)\b", re.IGNORECASE)
_FOLLOWUP_MESSAGES = ("checkin_reminder", "silence_reminder")
_CLINIC_NAME_ALLOWANCE = 30  # characters a clinic name may take in the 160


def check_followup_privacy(flow: Flow) -> Iterator[Problem]:
    """Check-ins and reminders name the clinic, ask how the patient is, name no symptom, fit 160 chars."""
    texts: list[tuple[tuple[str | int, ...], dict[str, str], Question | None]] = [
        (("messages", name), getattr(flow.messages, name), None) for name in _FOLLOWUP_MESSAGES]
    asks = sorted({plan.ask for node in flow.nodes.values() if isinstance(node, Outcome) for plan in node.checkins})
    for ask in asks:
        node = flow.nodes.get(ask)
        if isinstance(node, Question):
            texts.append((("nodes", ask, "text"), node.text, node))
    for path, text, question in texts:
        for lang, body in text.items():
            # A question goes out with its options in the same language ("Reply 1 Better, ...").
            suffix = "" if question is None else " " + flow.messages.sms_choices.get(lang, "").replace(
                "{options}", ", ".join(f"{i} {c.label.get(lang, '')}" for i, c in enumerate(question.choices, 1)))
            if "{clinic_name}" not in body:
                yield Problem(path, f"'{lang}' follow-up text must name the clinic ({{clinic_name}})")
            found = SYMPTOM_WORDS.search(body)
            if found:
                yield Problem(path, f"'{lang}' follow-up text names a symptom or condition ('{found.group(0)}')")
            length = len(body.replace("{clinic_name}", "x" * _CLINIC_NAME_ALLOWANCE)) + len(suffix)
            if length > CHECKIN_MAX_CHARS:
                yield Problem(path, f"'{lang}' follow-up text is about {length} characters; "
                                    f"at most {CHECKIN_MAX_CHARS}")


_SKIP_KEY = re.compile(r"[1-8#]")


def check_keypad(flow: Flow) -> Iterator[Problem]:
    """Every question can be answered on the phone by keypad alone (9 repeats, 0 reaches a nurse)."""
    for lang, body in flow.messages.voice_option.items():
        try:
            missing = {"key", "label"} - _placeholders(body)
        except ValueError:
            continue  # check_languages reports the bad placeholder
        if missing:
            yield Problem(("messages", "voice_option"),
                          f"'{lang}' text must name the option and its key ({{label}}, {{key}}) for keypad callers")
    for lang, body in flow.messages.voice_controls.items():
        if not ("9" in body and "0" in body):
            yield Problem(("messages", "voice_controls"),
                          f"'{lang}' text must tell callers that 9 repeats the question and 0 reaches a nurse")
    for node_id, node in flow.nodes.items():
        if not isinstance(node, FreeText):
            continue
        if node.screening:
            yield Problem(("nodes", node_id, "screening"),
                          "a free-text question cannot be answered by keypad: red-flag screening needs choices")
        voice = node.channels.voice
        if voice is None or not all(_SKIP_KEY.search(body) for body in voice.values()):
            yield Problem(("nodes", node_id, "channels"),
                          "a free-text question needs voice wording (channels.voice) that names the key "
                          "to press to skip it, for callers using the keypad")


RULES = (
    check_targets,
    check_reachable,
    check_every_path_ends,
    check_red_flags_escalate,
    check_unclear_never_lowers,
    check_choices,
    check_phrases,
    check_unless,
    check_shared_emergencies,
    check_languages,
    check_option_counts,
    check_emergency_advice,
    check_keypad,
    check_followup_privacy,
    check_segment_budget,
)


def lint(flow: Flow) -> list[Problem]:
    return [problem for rule in RULES for problem in rule(flow)]
