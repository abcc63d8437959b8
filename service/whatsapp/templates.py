"""WHATSAPP_TEMPLATES_FILE: the approved WhatsApp template (a Twilio Content SID) sent in place of a text when
the patient's last WhatsApp message is more than 24 hours old, keyed by the text's message key.

    ci_how_are_you:                       # a check-in question, a message name ('relay', 'checkin_reminder')
      content_sid: {en: HX..., es: HX...}  # per language; a language without one gets the 'en' template
      variables: {"1": clinic_name}        # the template's {{1}}: only the clinic's name or number, never
                                           # anything the patient or a nurse wrote
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel

from ..engine.yamlfile import parse_model, read_source
from ..outbox.outbound import Template

ContentSid = Annotated[str, Field(pattern=r"^HX[0-9a-fA-F]{32}$")]
VariableName = Annotated[str, Field(pattern=r"^[A-Za-z0-9_]{1,32}$")]
FALLBACK_LANGUAGE = "en"


class Entry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    content_sid: dict[str, ContentSid] = Field(min_length=1)  # language -> the template approved in it
    variables: dict[VariableName, Literal["clinic_name", "clinic_phone"]] = Field(default_factory=dict)


class TemplatesFile(RootModel[dict[str, Entry]]):
    pass


@dataclass(frozen=True)
class Templates:
    entries: dict[str, Entry] = field(default_factory=dict)

    def find(self, key: str | None, language: str, context: dict[str, str]) -> Template | None:
        """The template for this text in the patient's language (else English), its variables filled."""
        entry = self.entries.get(key) if key else None
        if entry is None:
            return None
        sid = entry.content_sid.get(language) or entry.content_sid.get(FALLBACK_LANGUAGE)
        if sid is None:
            return None
        return Template(sid, {name: context[value] for name, value in entry.variables.items()})


def load_templates(path: str) -> Templates:
    """Parse and check the file (none configured: no templates); raises FileProblems, `file:line: where: reason`."""
    if not path:
        return Templates()
    spec, _lines = parse_model(read_source(path), path, TemplatesFile)
    return Templates(dict(spec.root))
