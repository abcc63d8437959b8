"""`flows report`: every red flag with its level, source, the question that asks it, and the
conversation cases that prove it, for a clinician to sign off; then every SMS text's segments."""

from __future__ import annotations

from pathlib import Path

from ..engine.flow import Question
from ..engine.loader import LoadedFlow
from ..engine.segments import PART, SINGLE
from ..engine.sms_budget import SmsText, longest_path, sms_texts
from .case_files import case_files, load_case_file


def covering_cases(cases_dir: Path, flow_id: str) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Per red flag: the cases that must raise it, and the negated twins that must not."""
    covering: dict[str, list[str]] = {}
    twins: dict[str, list[str]] = {}
    for path in case_files(cases_dir):
        case_file = load_case_file(path)
        if case_file.flow != flow_id:
            continue
        for case in case_file.cases:
            for flag in case.expect.red_flags or []:
                covering.setdefault(flag, []).append(f"{path.stem}: {case.name}")
            if case.twin_of:
                twins.setdefault(case.twin_of, []).append(f"{path.stem}: {case.name}")
    return covering, twins


def red_flag_report(loaded: LoadedFlow, cases_dir: Path) -> str:
    flow = loaded.flow
    covering, twins = covering_cases(cases_dir, flow.id) if cases_dir.exists() else ({}, {})
    asked_by: dict[str, list[str]] = {}
    for node_id, node in flow.nodes.items():
        if isinstance(node, Question):
            for choice in node.choices:
                if choice.red_flag:
                    asked_by.setdefault(choice.red_flag, []).append(f'{node_id}: "{node.text["en"]}"')
    reviewers = ", ".join(f"{lang}: {who or 'NOT REVIEWED'}" for lang, who in
                          ((lang, flow.reviewed_by.get(lang)) for lang in flow.languages))
    lines = [f"# {flow.title} ({flow.id}, version {loaded.version})", f"Reviewed by: {reviewers}", ""]
    shared = dict(loaded.shared_red_flags)
    ordered = sorted(flow.red_flags.items(), key=lambda item: (item[0] not in shared, -item[1].level.rank))
    for flag_id, flag in ordered:
        lines.append(f"## {flag_id}: {flag.label}")
        if flag_id in shared:
            lines.append(f"- shared by every flow: {shared[flag_id]}")
        lines.append(f"- level: {flag.level.value} ({flag.level.disposition})")
        if flag.outcome:
            lines.append(f"- leads to: {flag.outcome}: \"{flow.nodes[flag.outcome].text['en']}\"")
        lines.append(f"- source: {flag.source}")
        for question in asked_by.get(flag_id, ["(free text only: no question asks it)"]):
            lines.append(f"- asked by: {question}")
        cases = covering.get(flag_id, [])
        lines.append(f"- conversation cases ({len(cases)}): " + ("; ".join(cases) if cases else "NONE"))
        negated = twins.get(flag_id, [])
        lines.append(f"- negated twins ({len(negated)}): " + ("; ".join(negated) if negated else "NONE"))
        lines.append("")
    return "\n".join(lines + segment_table(loaded))


def segment_table(loaded: LoadedFlow) -> list[str]:
    """Each SMS text in each language: segments, encoding and characters, as `flows check` counts them;
    a re-asked form is listed where it takes more segments. Then the longest conversation per language."""
    flow = loaded.flow
    budget = flow.segment_budget
    rows: dict[tuple[str, str], dict[str, SmsText]] = {}
    for lang in flow.languages:
        for text in sms_texts(flow, lang):
            rows.setdefault((text.name, text.variant), {})[lang] = text
    lines = [f"## SMS segments (budget: {budget.per_text} a text, segment_budget.per_text)",
             f"Placeholders at their longest: clinic_name {budget.longest.clinic_name}, clinic_phone "
             f"{budget.longest.clinic_phone} characters. One segment holds {SINGLE['GSM-7']} GSM-7 or "
             f"{SINGLE['UCS-2']} UCS-2 characters; a longer text {PART['GSM-7']} or {PART['UCS-2']} a segment.",
             "", "| text | " + " | ".join(flow.languages) + " |", "|---" * (len(flow.languages) + 1) + "|"]
    for (name, variant), texts in rows.items():
        first = rows.get((name, ""), {})
        if variant and all(t.size.segments <= first[lang].size.segments for lang, t in texts.items() if lang in first):
            continue  # said again in a form that costs no more
        cells = [f"{t.size.segments} ({t.size.encoding}, {t.size.units})" for t in texts.values()]
        lines.append(f"| {name}{', ' + variant if variant else ''} | " + " | ".join(cells) + " |")
    lines.append("")
    for lang in flow.languages:
        path = longest_path(flow, lang)
        lines.append(f"Longest conversation ({lang}): {path.segments} segments in {path.texts} texts: "
                     + " > ".join(path.nodes))
    return lines + [""]
