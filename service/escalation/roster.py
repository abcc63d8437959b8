"""The on-call roster (ROSTER_FILE): who is paged for an escalation, in what order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..engine.flow import Duration
from ..phones import to_e164
from ..yamlfile import parse_model, read_source


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Nurse(_Strict):
    name: str = Field(min_length=1)
    phone: str
    email: str | None = None

    @field_validator("phone")
    @classmethod
    def _e164(cls, value: str) -> str:
        number = to_e164(str(value))
        if number is None:
            raise ValueError(f"{value!r} is not a phone number (use +1... form)")
        return number


class RosterFile(_Strict):
    timezone: str = "America/New_York"
    ack_timeout: Duration = timedelta(minutes=5)
    nurses: list[Nurse] = Field(min_length=1)


@dataclass(frozen=True)
class Roster:
    spec: RosterFile
    path: str

    def chain(self, at: datetime) -> list[Nurse]:
        """Who to page, in order, at `at`. Until shifts exist the first nurse is on call."""
        return list(self.spec.nurses[:1])

    def nurse_by_phone(self, phone: str | None) -> Nurse | None:
        return next((n for n in self.spec.nurses if n.phone == phone), None)

    @property
    def ack_timeout(self) -> timedelta:
        return self.spec.ack_timeout


def load_roster(path: str | Path) -> Roster:
    spec, _ = parse_model(read_source(path), str(path), RosterFile)
    return Roster(spec=spec, path=str(path))
