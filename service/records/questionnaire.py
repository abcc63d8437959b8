"""The flow as a FHIR Questionnaire, made from the flow itself: one item per question (check-ins too), each
choice an answer option with its English label and every other language as a translation, the red-flag answers
marked with their red flag, level and source. Its version is the flow's content hash, so an edited flow is a new
Questionnaire version and a conversation's QuestionnaireResponse names the version it ran on."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ..engine.flow import Choice, Flow, FreeText, Question, RedFlag
from ..engine.loader import LoadedFlow
from ..engine.render import localize
from .fhir import Addresses, Resource, checked, with_text

RED_FLAG_EXTENSION = "red-flag"


def questionnaire_id(loaded: LoadedFlow) -> str:
    return f"{loaded.flow.id.replace('_', '-')}-{loaded.version}"  # ids allow no underscore


def canonical(addresses: Addresses, loaded: LoadedFlow) -> str:
    """The canonical reference a QuestionnaireResponse carries: url|version."""
    return f"{addresses.questionnaire(loaded.flow.id)}|{loaded.version}"


def answers_system(addresses: Addresses, flow: Flow) -> str:
    return addresses.code_system(f"{flow.id}-answers")


def red_flags_system(addresses: Addresses, flow: Flow) -> str:
    return addresses.code_system(f"{flow.id}-red-flags")


def red_flag_extension(addresses: Addresses, flag_id: str, flag: RedFlag) -> dict[str, object]:
    """The red flag an answer (or a Flag) stands for: its id, plain label, level and source."""
    return {"url": addresses.extension(RED_FLAG_EXTENSION), "extension": [
        {"url": "flag", "valueCode": flag_id}, {"url": "label", "valueString": flag.label},
        {"url": "level", "valueCode": flag.level.value},
        {"url": "source", "valueString": " ".join(flag.source.split())}]}


def questionnaire(loaded: LoadedFlow, addresses: Addresses, context: Mapping[str, str] | None = None) -> Resource:
    flow = loaded.flow
    reviewed = all(flow.reviewed_by.get(language) for language in flow.languages)
    resource: Resource = {
        "resourceType": "Questionnaire", "id": questionnaire_id(loaded), "url": addresses.questionnaire(flow.id),
        "version": loaded.version, "name": "".join(part.title() for part in flow.id.split("_")),
        "title": flow.title, "language": "en",
        # Until a clinician has signed off every language (reviewed_by), the flow is a draft (flows check warns).
        "status": "active" if reviewed else "draft", "subjectType": ["Patient"],
        "description": f"Nurse-line triage flow '{flow.id}' ({', '.join(flow.languages)}), generated from "
                       f"{Path(loaded.path).name} version {loaded.version}.",
        "item": [_item(flow, node_id, node, addresses, context or {}) for node_id, node in flow.nodes.items()
                 if isinstance(node, (Question, FreeText))],
    }
    if context and context.get("clinic_name"):
        resource["publisher"] = context["clinic_name"]
    return checked(resource)


def _item(flow: Flow, node_id: str, node: Question | FreeText, addresses: Addresses,
          context: Mapping[str, str]) -> Resource:
    item: Resource = {"linkId": node_id, "type": "choice" if isinstance(node, Question) else "text"}
    with_text(item, "text", {lang: localize(node.text, lang, context) for lang in node.text})
    if isinstance(node, Question):
        item["answerOption"] = [_option(flow, choice, addresses) for choice in node.choices]
    return item


def _option(flow: Flow, choice: Choice, addresses: Addresses) -> Resource:
    coding = with_text({"system": answers_system(addresses, flow), "code": choice.id}, "display", choice.label)
    option: Resource = {"valueCoding": coding}
    flag_id = choice.red_flag
    if flag_id is not None and flag_id in flow.red_flags:
        option["extension"] = [red_flag_extension(addresses, flag_id, flow.red_flags[flag_id])]
    return option
