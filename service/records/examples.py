"""Write the example FHIR files in docs/fhir/: two conversations played through the real SMS webhook (signed as
Twilio signs) on a scratch SQLite database, then exported as the CLI exports them.

    .venv/bin/python -m service.records.examples docs/fhir

- red-flag-case.json: legs gone numb mid-screen (ED now), the nurse's ACK and DONE with a note by SMS;
- home-care-es.json: a Spanish conversation to home care, with an answer not understood on the way;
- questionnaire-back_spasm.json: the flow as a Questionnaire (the version both conversations ran on).

The clock is fixed and every entry's address is derived from its row, so a run changes these files only when
the flow (its version), the engine's words or the export itself change. tests/service/test_records_fhir.py validates
them and runs this.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path

from .. import create_app
from ..outbox.transports import ConsoleTransport
from ..settings import ROOT, Settings
from . import store
from .bundle import export_text
from .fhir import Addresses, dumps
from .questionnaire import questionnaire

TOKEN = "example-auth-token"  # signs the example webhooks; no real account
CLINIC = "+12125550100"
RED_FLAG_PATIENT, HOME_CARE_PATIENT = "+12125550140", "+12125550141"
START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # Monday 10:00 in New York: a roster nurse is on call
BASE = "https://clinic.example.org/fhir"
RED_FLAG_TEXTS = ["Hi, my lower back is in spasm since this morning", "no", "no", "no",
                  "actually my legs went numb and I can't stand up"]
HOME_CARE_TEXTS = ["hola, me duele la espalda", "no", "mmm", "no", "no", "no", "no", "no", "no", "no", "no", "no",
                   "no", "hace 2 días"]


class _Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def write_examples(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        clock = _Clock()
        settings = Settings(
            database_url=f"sqlite:///{Path(scratch) / 'examples.sqlite3'}", transport="console",
            twilio_auth_token=TOKEN, twilio_phone_number=CLINIC, flows_dir=str(ROOT / "flows"),
            roster_file=str(ROOT / "roster.example.yaml"), clinic_name="Example Spine Clinic",
            clinic_phone="+12125550100", dispatch="inline", secret_key="examples", auto_migrate=True,
            fhir_base_url=BASE)
        app = create_app(settings, clock=clock, transport=ConsoleTransport(io.StringIO()))
        svc = app.extensions["triage"]
        client, sids = app.test_client(), count(1)

        def text(body: str, frm: str) -> None:
            clock.now += timedelta(seconds=40)
            params = {"From": frm, "To": CLINIC, "Body": body, "MessageSid": f"SM{next(sids):032x}",
                      "AccountSid": "AC" + "0" * 32}
            signature = _signature("http://localhost/twilio/sms", params)
            response = client.post("/twilio/sms", data=params, headers={"X-Twilio-Signature": signature})
            assert response.status_code == 200, response.get_data(as_text=True)

        for body in RED_FLAG_TEXTS:
            text(body, RED_FLAG_PATIENT)
        nurse = svc.roster.chain(clock.now)[0].phone
        text("ACK 1", nurse)
        clock.now += timedelta(minutes=6)
        text("DONE 1 Called her back: sudden numbness in both legs, going to the ED now with her husband.", nurse)
        for body in HOME_CARE_TEXTS:
            text(body, HOME_CARE_PATIENT)
        written = []
        with svc.factory() as session:
            ids = store.conversations_since(session, START)
        for name, conversation_id in zip(("red-flag-case.json", "home-care-es.json"), ids, strict=True):
            with svc.factory() as session:
                record = store.load(svc, session, conversation_id)
            assert record is not None
            written.append(_write(directory / name, export_text(svc, record)))
        loaded = svc.flows.current()
        written.append(_write(directory / f"questionnaire-{loaded.flow.id}.json",
                              dumps(questionnaire(loaded, Addresses(BASE), svc.context))))
        svc.shutdown()
        svc.engine.dispose()
    return written


def _signature(url: str, params: dict[str, str]) -> str:
    """X-Twilio-Signature as Twilio computes it (HMAC-SHA1 of the URL and the sorted form fields, base64); the
    webhook checks it with Twilio's own validator (only outbox/transports.py and channels/ import twilio)."""
    data = url + "".join(name + params[name] for name in sorted(params))
    return base64.b64encode(hmac.new(TOKEN.encode(), data.encode(), hashlib.sha1).digest()).decode()


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


if __name__ == "__main__":
    for path in write_examples(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/fhir")):
        print(path)
