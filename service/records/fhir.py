"""What the FHIR export shares: the release, the addresses of our own code systems and extensions, stable
entry addresses, and the check that a resource is what the FHIR model library accepts.

fhir.resources 8 models R4B (4.3.0) and R5; R4 itself (4.0.1) is only in its 6.4 line, which needs pydantic 1.
R4B changed none of the resources written here from R4 (Patient, Encounter, Questionnaire, QuestionnaireResponse,
Flag, Communication, Task, DocumentReference, Practitioner, Device, Bundle), so an R4 system reads them as R4.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from fhir.resources.R4B import get_fhir_model_class

FHIR_RELEASE = "4.3.0"  # R4B: what fhir.resources.R4B validates
TRANSLATION = "http://hl7.org/fhir/StructureDefinition/translation"
ORIGINAL_TEXT = "http://hl7.org/fhir/StructureDefinition/originalText"  # the patient's own words
FLAG_PRIORITY = "http://hl7.org/fhir/StructureDefinition/flag-priority"
MIME = "application/fhir+json"

Resource = dict[str, Any]


class Addresses:
    """Every URL of ours under one base (FHIR_BASE_URL): canonical URLs, code systems, identifier systems."""

    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")

    def questionnaire(self, flow_id: str) -> str:
        return f"{self.base}/Questionnaire/{flow_id}"

    def code_system(self, name: str) -> str:
        return f"{self.base}/CodeSystem/{name}"

    def extension(self, name: str) -> str:
        return f"{self.base}/StructureDefinition/{name}"

    def identifier(self, name: str) -> str:
        return f"{self.base}/{name}"

    def entry(self, kind: str, key: object) -> str:
        """A stable urn:uuid for an entry: the same row exports under the same address every time."""
        return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{self.base}/{kind}/{key}')}"


def instant(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z") if value else None


def translated(texts: Mapping[str, str], render: Any = None) -> tuple[str, dict[str, Any] | None]:
    """(the English text, the `_element` holding each other language as a translation extension)."""
    show = render or (lambda text: text)
    english = show(texts.get("en") or next(iter(texts.values())))
    others = [{"url": TRANSLATION, "extension": [{"url": "lang", "valueCode": lang},
                                                  {"url": "content", "valueString": show(text)}]}
              for lang, text in texts.items() if lang != "en" and text]
    return english, ({"extension": others} if others else None)


def with_text(target: Resource, name: str, texts: Mapping[str, str], render: Any = None) -> Resource:
    """Set `name` to the English text and `_name` to its translations."""
    english, element = translated(texts, render)
    target[name] = english
    if element is not None:
        target[f"_{name}"] = element
    return target


def checked(resource: Resource) -> Resource:
    """The resource as the FHIR model library reads it back (ValueError when it does not): what is written out
    is what the library accepts, in its own field order."""
    model = get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    result: Resource = json.loads(model.model_dump_json())
    return result


def dumps(resource: Resource) -> str:
    return json.dumps(resource, indent=2, ensure_ascii=False) + "\n"
