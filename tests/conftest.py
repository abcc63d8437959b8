"""Shared test harness: a real database (SQLite, or Postgres when TEST_DATABASE_URL / DATABASE_URL
names one), the real twilio client pointed at the local Twilio fake, signed webhooks, a fake clock.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from twilio.request_validator import RequestValidator

from service import create_app
from service.services import Services
from service.settings import ROOT, Settings
from tests.databases import fresh_database, postgres_url, remove_templates

if TYPE_CHECKING:
    from tests.twilio_fake import TwilioFake

pytest_plugins = ["tests.twilio_fake"]

AUTH_TOKEN = "test-auth-token"
CLINIC_NUMBER = "+12125550100"
PATIENT = "+12125550123"
NURSE_AVERY = "+12125550101"  # first nurse in roster.example.yaml
NURSE_BLAKE = "+12125550102"
SUPERVISOR = "+12125550109"
# Every test's database is sealed as production's is (DATA_KEY): each read proves the content opens again.
DATA_KEY = "CXcb5GxB3-ObHoDT5Sk5g6g98clPdIoOxmpqNivZUXY="


@dataclass
class FakeClock:
    """Time that only moves when a test says so."""

    now: datetime = field(default_factory=lambda: datetime(2026, 3, 2, 15, 0, tzinfo=UTC))  # Mon 10:00 New York

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        self.now += delta if delta is not None else timedelta(**kwargs)
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """A database of the test's own, already at the newest migration (tests/databases.py)."""
    with fresh_database(tmp_path, migrated=True) as url:
        yield url


@pytest.fixture
def empty_database_url(tmp_path: Path) -> Iterator[str]:
    """A database of the test's own with no tables: for the migrations' own tests."""
    with fresh_database(tmp_path) as url:
        yield url


@pytest.fixture
def settings(database_url: str, twilio_fake: TwilioFake, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        transport="twilio",
        twilio_account_sid=twilio_fake.account_sid,
        twilio_auth_token=AUTH_TOKEN,
        twilio_phone_number=CLINIC_NUMBER,
        twilio_api_base_url=twilio_fake.base_url,
        twilio_timeout=2.0,
        flows_dir=str(ROOT / "flows"),
        roster_file=str(ROOT / "roster.example.yaml"),
        clinic_name="Test Spine Clinic",
        clinic_phone="+12125550100",
        dispatch="inline",
        secret_key="test-secret",
        data_key=DATA_KEY,
        auto_migrate=True,
        spool_dir=str(tmp_path / "spool"),  # the outage spool: each test's own
    )


@pytest.fixture
def twilio_fake(twilio_fake: TwilioFake) -> TwilioFake:
    # The service signs webhooks with AUTH_TOKEN; the fake checks REST calls with its own token,
    # so the REST client must use the fake's token: keep them equal.
    twilio_fake.auth_token = AUTH_TOKEN
    return twilio_fake


@pytest.fixture
def app(settings: Settings, clock: FakeClock) -> Iterator[Flask]:
    application = create_app(settings, clock=clock)
    yield application
    services(application).shutdown()
    services(application).engine.dispose()


def services(application: Flask) -> Services:
    return application.extensions["triage"]


@pytest.fixture
def svc(app: Flask) -> Services:
    return services(app)


@dataclass
class TwimlReply:
    status: int
    root: ET.Element | None
    raw: str

    @property
    def texts(self) -> list[str]:
        """The bodies of every <Message> in the reply."""
        if self.root is None:
            return []
        return [(m.text or "") + "".join((b.text or "") for b in m.findall("Body")) for m in self.root.iter("Message")]

    @property
    def text(self) -> str:
        return "\n\n".join(self.texts)


class Twilio:
    """Sends webhooks the way Twilio does: form-encoded, signed with the auth token."""

    def __init__(self, client: FlaskClient, token: str = AUTH_TOKEN, base: str = "http://localhost"):
        self.client = client
        self.validator = RequestValidator(token)
        self.base = base
        self._sids = count(1)

    def signed_post(self, path: str, params: dict[str, Any], signature: str | None = None) -> Any:
        sig = self.validator.compute_signature(self.base + path, params) if signature is None else signature
        return self.client.post(path, data=params, headers={"X-Twilio-Signature": sig})

    def sms(self, body: str, frm: str = PATIENT, sid: str | None = None, **extra: str) -> TwimlReply:
        params = {"From": frm, "To": CLINIC_NUMBER, "Body": body,
                  "MessageSid": sid or f"SM{next(self._sids):032x}", "AccountSid": "AC" + "0" * 32, **extra}
        response = self.signed_post("/twilio/sms", params)
        return parse_twiml(response)


def parse_twiml(response: Any) -> TwimlReply:
    raw = response.get_data(as_text=True)
    root = ET.fromstring(raw) if response.status_code == 200 else None
    if root is not None:
        assert root.tag == "Response", raw
    return TwimlReply(response.status_code, root, raw)


@pytest.fixture
def twilio(app: Flask) -> Twilio:
    return Twilio(app.test_client())


def play(twilio: Twilio, *texts: str, frm: str = PATIENT) -> list[TwimlReply]:
    """Send several texts in order; every one must get a 200 with valid TwiML."""
    replies = [twilio.sms(t, frm=frm) for t in texts]
    for reply in replies:
        assert reply.status == 200, reply.raw
    return replies


# A benign patient: "no" to every screening question, then home care.
ALL_CLEAR = ["no"] * 12


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true",
                     help="rewrite tests/engine/golden/*.json from what the engine does now (a deliberate change)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On Postgres (CI's second pass), leave out what touches no database: it proved itself in the SQLite pass.
    tests/engine is the pure core (test_layers holds it to no database); `database_free` marks the rest."""
    if postgres_url() is None:
        return
    engine_dir = Path(__file__).parent / "engine"
    free = [item for item in items
            if item.get_closest_marker("database_free") or engine_dir in Path(item.path).parents]
    if free:
        config.hook.pytest_deselected(items=free)
        left_out = set(free)
        items[:] = [item for item in items if item not in left_out]


def pytest_sessionfinish(session: pytest.Session) -> None:
    remove_templates()
