"""A conversation case file (tests/conversations/*.yaml): what a patient sends, step by step, and what must follow.

Read by `flows test` (conversation_tests.py), `flows report` and the tests; validated by pydantic, each problem as
file:line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..engine.flow import Duration, Level
from ..engine.yamlfile import parse_model, read_source


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Step(_Strict):
    send: str | None = None
    press: str | None = None
    wait: Duration | None = None
    reply_contains: list[str] = Field(default_factory=list)
    reply_lacks: list[str] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _plain_text(cls, value: Any) -> Any:
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            return {"send": str(value)}
        if isinstance(value, dict) and "press" in value:
            value = {**value, "press": str(value["press"])}
        return value

    @model_validator(mode="after")
    def _one_action(self) -> Step:
        if sum(x is not None for x in (self.send, self.press, self.wait)) != 1:
            raise ValueError("each step is exactly one of: send, press, wait")
        return self


class CheckinExpectation(_Strict):
    ask: str
    after: Duration


class Expect(_Strict):
    level: Level | None = None
    no_outcome: bool = False
    disposition: str | None = None
    outcome: str | None = None
    paged: bool | None = None
    red_flags: list[str] | None = None
    checkins: list[CheckinExpectation] | None = None
    opted_out: bool | None = None
    replies_contain: list[str] = Field(default_factory=list)
    replies_lack: list[str] = Field(default_factory=list)


class Case(_Strict):
    name: str
    twin_of: str | None = Field(None, description="the red flag this case says in the negative")
    channel: str = Field("sms", pattern="^(sms|voice)$")
    language: str = "en"
    steps: list[Step] = Field(min_length=1)
    expect: Expect = Expect()


class CaseFile(_Strict):
    flow: str
    cases: list[Case] = Field(min_length=1)


def load_case_file(path: str | Path) -> CaseFile:
    model, _ = parse_model(read_source(path), str(path), CaseFile)
    return model


def case_files(path: str | Path) -> list[Path]:
    path = Path(path)
    return [path] if path.is_file() else sorted(path.glob("*.yaml"))
