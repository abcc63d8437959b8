"""One patient's record through the real CLI (click's CliRunner on the real app): `flask data export-patient`
writes everything held about them as readable JSON; `flask data erase-patient` carries out a documented
erasure request, audited without the content, and leaves the case skeleton and the audit trail."""

from __future__ import annotations

import json
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from service.models import AuditLog, Escalation, EscalationEvent, Message, Patient
from service.phones import mask
from service.services import Services
from tests.conftest import NURSE_AVERY, PATIENT, Twilio
from tests.dashboard_client import create_user, login
from tests.service.test_data_at_rest import CALLER, SAID, converse, raw_dump


def test_export_writes_everything_held_about_one_patient(app: Flask, twilio: Twilio, svc: Services,
                                                         tmp_path: Path) -> None:
    converse(twilio)
    create_user(app, "avery", "nurse", "Nurse Avery")
    nurse = app.test_client()
    login(nurse, "avery")
    nurse.get("/dashboard/cases/1")  # who looked at the record is part of it
    out = tmp_path / "record.json"
    result = app.test_cli_runner().invoke(args=["data", "export-patient", "(212) 555-0123", "-o", str(out),
                                                "--by", "privacy-officer", "--reference", "REQ-7"])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    record = json.loads(text)
    [patient] = record["patients"]
    assert patient["phone"] == PATIENT and patient["erased_at"] is None
    bodies = [m["body"] for m in record["messages"]]
    assert "hi, my back went into spasm lifting zucchini crates" in bodies
    assert any("Mrs Marrow" in b for b in bodies)  # the nurse's relayed text
    assert any(b.startswith("URGENT case 1") for b in bodies)  # the page about them
    [conversation] = record["conversations"]
    assert conversation["state"]["answers"] and conversation["level"] == "ed_now"
    [case] = record["escalations"]
    assert case["quotes"] == ["cant control my bladder"] and "suspected cauda equina" in case["note"]
    assert any(e["event"] == "resolved" and "cauda equina" in e["detail"] for e in record["escalation_events"])
    assert any(a["action"] == "view_case" and a["username"] == "avery" for a in record["audit_log"])
    # Only this patient: not the caller's call, and the nurse's number masked.
    assert CALLER not in text and "REzucchini" not in text
    assert NURSE_AVERY not in text and mask(NURSE_AVERY) in text
    with svc.factory() as session:
        [logged] = session.scalars(select(AuditLog).where(AuditLog.action == "export_patient")).all()
    assert (logged.username, logged.patient_id) == ("cli:privacy-officer", patient["id"])
    assert logged.detail == "request REQ-7"

    to_stdout = app.test_cli_runner().invoke(args=["data", "export-patient", PATIENT])
    assert to_stdout.exit_code == 0 and json.loads(to_stdout.output)["patients"][0]["phone"] == PATIENT
    unknown = app.test_cli_runner().invoke(args=["data", "export-patient", "+12125550999"])
    assert unknown.exit_code == 1 and "no patient" in unknown.output and "+12125550999" not in unknown.output


def test_erase_removes_the_content_and_the_number_keeps_the_skeleton_and_is_audited(
        app: Flask, twilio: Twilio, svc: Services) -> None:
    twilio.sms("hi, my back went into spasm lifting zucchini crates")
    twilio.sms("no")
    twilio.sms("I can't control my bladder since the zucchini harvest")
    cli = app.test_cli_runner()
    refused = cli.invoke(args=["data", "erase-patient", PATIENT, "--reference", "REQ-9", "--yes"])
    assert refused.exit_code == 1 and "case 1 is still open" in refused.output
    with svc.factory() as session:
        assert session.scalars(select(Patient.phone)).all() == [PATIENT]  # nothing changed
    twilio.sms("DONE 1 Spoke with her: suspected cauda equina", frm=NURSE_AVERY)
    assert PATIENT in raw_dump(svc.settings.database_url)  # numbers are plain (each text looks its patient up)
    with svc.factory() as session:
        events_before = session.scalars(select(EscalationEvent.event).order_by(EscalationEvent.id)).all()
        case_before = session.execute(select(Escalation.level, Escalation.status, Escalation.created_at,
                                             Escalation.resolved_at, Escalation.red_flags)).one()

    erased = cli.invoke(args=["data", "erase-patient", "212-555-0123", "--reference", "REQ-9", "--by", "dpo",
                              "--yes"])
    assert erased.exit_code == 0, erased.output
    assert "patient 1 erased (request REQ-9)" in erased.output and "receipts deleted 3" in erased.output

    raw = raw_dump(svc.settings.database_url)
    assert [words for words in SAID if words in raw] == [] and PATIENT not in raw  # not even sealed
    with svc.factory() as session:
        patient = session.get(Patient, 1)
        assert patient is not None and patient.phone is None and patient.erased_at == svc.clock()
        assert session.execute(select(Escalation.level, Escalation.status, Escalation.created_at,
                                      Escalation.resolved_at, Escalation.red_flags)).one() == case_before
        events = session.scalars(select(EscalationEvent.event).order_by(EscalationEvent.id)).all()
        assert events == [*events_before, "content_erased"]  # the trail stays, and says what happened
        assert set(session.scalars(select(Message.body))) == {""}  # sealed: compared here, not in SQL
        [logged] = session.scalars(select(AuditLog).where(AuditLog.action == "erase_patient")).all()
    assert logged.username == "cli:dpo" and logged.patient_id == 1
    assert logged.detail.startswith("erasure request REQ-9: messages ") and "zucchini" not in logged.detail

    assert cli.invoke(args=["data", "export-patient", PATIENT]).exit_code == 1  # no one has that number now
    again = twilio.sms("hi, my back is stiff again")  # the same number writing again is a new patient
    assert again.status == 200
    with svc.factory() as session:
        assert session.scalars(select(Patient.id).where(Patient.phone == PATIENT)).one() == 2
