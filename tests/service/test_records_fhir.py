"""The FHIR export (service/records/): the flow as a Questionnaire, a conversation as a Bundle, read back with the
FHIR model library (fhir.resources, R4B) and checked for what matters: every reference resolves, the answers
are the conversation's, the Questionnaire version is the one the conversation ran on, the case's Task, Flags,
Communications and resolution note are there. Conversations are played through real signed webhooks."""

from __future__ import annotations

import base64
import json
import stat
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.questionnaire import Questionnaire
from flask import Flask
from sqlalchemy import or_, select

from service import create_app
from service.engine.flow import Question
from service.engine.state import State
from service.models import AuditLog, Conversation, Escalation, Message
from service.records.examples import write_examples
from service.services import Services
from service.settings import ROOT
from tests.conftest import NURSE_AVERY, PATIENT, FakeClock, Twilio, play
from tests.dashboard_client import create_user, login
from tests.service.test_flow_changes import copy_flows, edit
from tests.service.test_voice import Call

DOCS = ROOT / "docs" / "fhir"
FEW_NO = ["hi", "no", "no", "no"]  # at q_legs


def cli(app: Flask, *args: str) -> str:
    result = app.test_cli_runner().invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return result.output


def references(value: Any) -> list[str]:
    """Every Reference.reference anywhere in a resource."""
    if isinstance(value, dict):
        found = [value["reference"]] if isinstance(value.get("reference"), str) else []
        return found + [r for v in value.values() for r in references(v)]
    if isinstance(value, list):
        return [r for v in value for r in references(v)]
    return []


def resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def check_bundle(bundle: dict[str, Any]) -> None:
    """Parses with the library; a collection; every reference is an entry of the Bundle; the response names the
    Questionnaire in the Bundle; its answers are among that Questionnaire's options."""
    Bundle.model_validate(bundle)
    assert bundle["type"] == "collection"
    urls = [e["fullUrl"] for e in bundle["entry"]]
    assert len(set(urls)) == len(urls)
    assert set(references(bundle)) <= set(urls), set(references(bundle)) - set(urls)
    [questionnaire] = resources(bundle, "Questionnaire")
    [response] = resources(bundle, "QuestionnaireResponse")
    assert response["questionnaire"] == f"{questionnaire['url']}|{questionnaire['version']}"
    options = {item["linkId"]: {o["valueCoding"]["code"] for o in item.get("answerOption", [])}
               for item in questionnaire["item"]}
    for item in response.get("item", []):
        for answer in item["answer"]:
            assert "valueCoding" not in answer or answer["valueCoding"]["code"] in options[item["linkId"]]
    [patient] = resources(bundle, "Patient")
    assert set(patient) <= {"resourceType", "telecom"}  # telecom only: the line knows no name
    [encounter] = resources(bundle, "Encounter")
    assert encounter["class"]["code"] == "VR" and encounter["period"]["start"]


def kinds(bundle: dict[str, Any]) -> dict[str, int]:
    """How many resources of each type, Communications aside."""
    counted = [e["resource"]["resourceType"] for e in bundle["entry"]]
    return {kind: counted.count(kind) for kind in set(counted) - {"Communication"}}


def answers_of(bundle: dict[str, Any]) -> dict[str, str]:
    [response] = resources(bundle, "QuestionnaireResponse")
    return {item["linkId"]: item["answer"][0]["valueCoding"]["code"] for item in response.get("item", [])}


def state_of(svc: Services, conversation_id: int) -> State:
    with svc.factory() as session:
        return State.from_json(session.get(Conversation, conversation_id).state)


# --- the Questionnaire ------------------------------------------------------------------------------------


def test_fhir_questionnaire_is_the_flow_with_translations_and_marked_red_flags(app: Flask, svc: Services) -> None:
    resource = json.loads(cli(app, "fhir", "questionnaire", "back_spasm"))
    Questionnaire.model_validate(resource)
    loaded = svc.flows.current()
    assert (resource["version"], resource["url"]) == (loaded.version, f"{svc.settings.fhir_base}/Questionnaire/"
                                                                      "back_spasm")
    assert resource["status"] == "draft"  # no clinician has signed off (reviewed_by is empty)
    questions = [n for n, node in loaded.flow.nodes.items() if isinstance(node, Question)]
    items = {item["linkId"]: item for item in resource["item"]}
    assert list(items) == questions  # every question, check-ins too, in the flow's order
    faint = items["q_faint"]
    assert faint["text"].startswith("Have you fainted") and faint["type"] == "choice"
    [translation] = faint["_text"]["extension"]
    assert {e["url"]: e.get("valueCode") or e.get("valueString") for e in translation["extension"]}["lang"] == "es"
    assert any(e.get("valueString", "").startswith("¿Se ha desmayado") for e in translation["extension"])
    yes, no = faint["answerOption"]
    assert (yes["valueCoding"]["code"], yes["valueCoding"]["display"]) == ("yes", "Yes")
    assert "_display" in yes["valueCoding"] and "extension" not in no
    [mark] = yes["extension"]
    fields = {e["url"]: e.get("valueCode") or e.get("valueString") for e in mark["extension"]}
    assert fields["flag"] == "faint_shock_abdomen" and fields["level"] == "call_911_now"
    assert "references.md" in fields["source"]
    marked = {item["linkId"] for item in resource["item"] for o in item.get("answerOption", []) if "extension" in o}
    expected = {n for n in questions if any(c.red_flag for c in loaded.flow.nodes[n].choices)}  # type: ignore[union-attr]
    assert marked == expected and "q_bladder" in marked
    assert "Test Spine Clinic: checking in" in items["ci_how_are_you"]["text"]  # placeholders filled


def test_the_questionnaire_version_follows_the_flow_and_each_response_names_its_own(
        settings, clock: FakeClock, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    flows = copy_flows(tmp_path)
    app = create_app(replace(settings, flows_dir=str(flows)), clock=clock)
    svc: Services = app.extensions["triage"]
    twilio = Twilio(app.test_client())
    before = json.loads(cli(app, "fhir", "questionnaire", "back_spasm"))
    play(twilio, "hi", "no")  # a conversation on version A, at q_bladder
    edit(flows / "back_spasm.yaml", 'text: "Do you have new numbness around your groin, genitals or bottom?"',
         'text: "Do you have any new numbness around your groin, genitals or bottom?"')
    after = json.loads(cli(app, "fhir", "questionnaire", "back_spasm"))
    assert after["version"] != before["version"] and after["version"] == svc.flows.current().version
    saddle = {item["linkId"]: item["text"] for item in after["item"]}["q_saddle"]
    assert saddle.startswith("Do you have any new numbness")
    play(twilio, "no", "no")  # A's conversation goes on, on A
    play(twilio, "hi", "no", frm="+12125550177")  # a new one, on B
    with svc.factory() as session:
        first, second = session.scalars(select(Conversation.id).order_by(Conversation.id)).all()
    old = json.loads(cli(app, "fhir", "export", "--conversation", str(first)))
    new = json.loads(cli(app, "fhir", "export", "--conversation", str(second)))
    for bundle, version in ((old, before["version"]), (new, after["version"])):
        check_bundle(bundle)
        [response] = resources(bundle, "QuestionnaireResponse")
        assert response["questionnaire"].endswith(f"|{version}")
    [old_questionnaire] = resources(old, "Questionnaire")
    assert {i["linkId"]: i["text"] for i in old_questionnaire["item"]}["q_saddle"].startswith("Do you have new")
    stored = json.loads(cli(app, "fhir", "questionnaire", "back_spasm", "--version", before["version"]))
    assert stored == before  # a version served before, from the database
    app.extensions["triage"].shutdown()


# --- the Bundle ----------------------------------------------------------------------------------------------


def test_bundle_round_trip_for_a_red_flag_case_with_the_nurses_work(app: Flask, twilio: Twilio, svc: Services,
                                                                   clock: FakeClock, tmp_path: Path) -> None:
    play(twilio, *FEW_NO, "my legs went numb")
    with svc.factory() as session:
        case = session.scalars(select(Escalation)).one()
    clock.advance(minutes=3)
    play(twilio, f"ACK {case.id}", frm=NURSE_AVERY)
    play(twilio, f"NOTE {case.id} called, no answer; trying again", frm=NURSE_AVERY)
    clock.advance(minutes=5)
    play(twilio, f"DONE {case.id} spoke to her: sent to the ED, husband driving", frm=NURSE_AVERY)
    out = tmp_path / "case.json"
    cli(app, "fhir", "export", str(case.id), "-o", str(out))
    assert stat.S_IMODE(out.stat().st_mode) == 0o600  # a patient's record: this account only
    bundle = json.loads(out.read_text())
    check_bundle(bundle)
    state = state_of(svc, case.conversation_id)  # type: ignore[arg-type]
    assert answers_of(bundle) == state.answers == {"q_faint": "no", "q_bladder": "no", "q_saddle": "no"}
    [response] = resources(bundle, "QuestionnaireResponse")
    assert response["status"] == "completed"
    words = [a["extension"][0]["valueString"] for i in response["item"] for a in i["answer"]]
    assert words == ["no", "no", "no"]  # the patient's own words beside each coded answer
    [patient] = resources(bundle, "Patient")
    assert patient["telecom"] == [{"system": "phone", "value": PATIENT, "use": "mobile"}]
    [flag] = resources(bundle, "Flag")
    assert flag["code"]["coding"][0]["code"] == "legs" and flag["status"] == "inactive"  # the case is resolved
    assert flag["code"]["extension"][0]["valueString"] == "my legs went numb"
    [encounter] = resources(bundle, "Encounter")
    assert encounter["status"] == "finished" and encounter["priority"]["coding"][0]["code"] == "EM"
    assert encounter["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] == "ed_now"
    [task] = resources(bundle, "Task")
    assert (task["status"], task["priority"], task["owner"]["display"]) == ("completed", "stat", "Nurse Avery")
    assert task["identifier"][0]["value"] == str(case.id)
    assert [n["text"] for n in task["note"]] == ["called, no answer; trying again"]
    [document] = resources(bundle, "DocumentReference")
    note = base64.b64decode(document["content"][0]["attachment"]["data"]).decode()
    assert note == "spoke to her: sent to the ED, husband driving"
    assert task["output"][0]["valueReference"]["reference"] == next(
        e["fullUrl"] for e in bundle["entry"] if e["resource"]["resourceType"] == "DocumentReference")
    with svc.factory() as session:
        bodies = list(session.scalars(select(Message.body).where(or_(
            Message.escalation_id == case.id, Message.conversation_id == case.conversation_id))))
    communications = resources(bundle, "Communication")
    assert sorted(c["payload"][0]["contentString"] for c in communications) == sorted(bodies)
    page = next(c for c in communications if c["category"][0]["text"] == "page")
    assert "URGENT" in page["payload"][0]["contentString"] and page["recipient"][0]["display"] == "Nurse Avery"
    with svc.factory() as session:
        [row] = session.scalars(select(AuditLog).where(AuditLog.action == "cli_export_fhir")).all()
    assert (row.escalation_id, row.patient_id) == (case.id, case.patient_id)


def test_a_home_care_call_has_no_task_or_flag_and_its_calls_are_phone_communications(
        app: Flask, twilio: Twilio, svc: Services) -> None:
    call = Call(twilio)
    call.start()
    call.answer_all(["2"] * 12)
    call.press("2")  # no advice by text
    with svc.factory() as session:
        conversation_id = session.scalars(select(Conversation.id)).one()
    bundle = json.loads(cli(app, "fhir", "export", "--conversation", str(conversation_id)))
    check_bundle(bundle)
    assert resources(bundle, "Task") == resources(bundle, "Flag") == resources(bundle, "DocumentReference") == []
    assert answers_of(bundle) == state_of(svc, conversation_id).answers and len(answers_of(bundle)) == 12
    communications = resources(bundle, "Communication")
    call = [c for c in communications if c["category"][0]["text"] != "advice"]  # the advice is an SMS
    assert call and {c["medium"][0]["coding"][0]["code"] for c in call} == {"PHONE"}
    declined = [c for c in communications if c["category"][0]["text"] == "advice"]
    assert declined and {c["status"] for c in declined} == {"not-done"}  # staged, never sent: the caller said no
    [encounter] = resources(bundle, "Encounter")
    assert encounter["type"][0]["text"] == "Nurse-line triage by a phone call"
    assert encounter["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] == "home_care"


def test_export_since_writes_one_bundle_per_conversation(app: Flask, twilio: Twilio, svc: Services,
                                                         clock: FakeClock, tmp_path: Path) -> None:
    play(twilio, "hi", "yes")
    clock.advance(days=2)
    play(twilio, "hi", "no", frm="+12125550177")
    # --since is the clinic's wall clock: midnight in New York on 4 March is after the first, before the second.
    later = tmp_path / "later"
    result = app.test_cli_runner().invoke(args=["fhir", "export", "--since", "2026-03-04", "--out", str(later)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in later.iterdir()) == ["conversation-2.json"]
    check_bundle(json.loads((later / "conversation-2.json").read_text()))
    everything = tmp_path / "all"
    cli(app, "fhir", "export", "--since", "2026-03-01", "--out", str(everything))
    assert sorted(p.name for p in everything.iterdir()) == ["conversation-1.json", "conversation-2.json"]
    refused = app.test_cli_runner().invoke(args=["fhir", "export", "1", "--since", "2026-03-01", "--out", "x"])
    assert refused.exit_code != 0
    with svc.factory() as session:
        assert len(session.scalars(select(AuditLog).where(AuditLog.action == "cli_export_fhir")).all()) == 3


def test_the_case_page_download_is_the_bundle_and_is_audited(app: Flask, twilio: Twilio, svc: Services) -> None:
    play(twilio, "hi", "no", "yes")
    with svc.factory() as session:
        case = session.scalars(select(Escalation)).one()
    path = f"/dashboard/cases/{case.id}/fhir.json"
    assert app.test_client().get(path).status_code == 302  # signed out: to the login page
    assert create_user(app, "avery", "nurse", "Nurse Avery").exit_code == 0
    nurse = app.test_client()
    assert login(nurse, "avery").status_code == 302
    assert f'href="{path}"' in nurse.get(f"/dashboard/cases/{case.id}").get_data(as_text=True)
    response = nurse.get(path)
    assert response.status_code == 200 and response.mimetype == "application/fhir+json"
    assert response.headers["Content-Disposition"] == f'attachment; filename="case-{case.id}-fhir.json"'
    assert response.headers["Cache-Control"] == "no-store"  # patient data: the dashboard's own headers
    bundle = response.get_json(force=True)
    check_bundle(bundle)
    assert answers_of(bundle) == {"q_faint": "no", "q_bladder": "yes"}
    with svc.factory() as session:
        rows = session.scalars(select(AuditLog).where(AuditLog.username == "avery")).all()
    assert [r.action for r in rows] == ["login", "view_case", "export_fhir"]
    assert (rows[-1].escalation_id, rows[-1].patient_id) == (case.id, case.patient_id)
    assert nurse.get("/dashboard/cases/999/fhir.json").status_code == 404


# --- the examples in docs/ --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["red-flag-case.json", "home-care-es.json"])
def test_the_example_bundles_in_docs_are_valid(name: str) -> None:
    bundle = json.loads((DOCS / name).read_text())
    check_bundle(bundle)
    [questionnaire] = resources(bundle, "Questionnaire")
    assert questionnaire == json.loads((DOCS / "questionnaire-back_spasm.json").read_text())
    kinds = {e["resource"]["resourceType"] for e in bundle["entry"]}
    if name == "red-flag-case.json":
        assert {"Flag", "Task", "DocumentReference", "Practitioner"} <= kinds
    else:
        assert not kinds & {"Flag", "Task", "DocumentReference"}
        assert {c.get("language") for c in resources(bundle, "Communication")} == {"es"}


def test_the_example_questionnaire_in_docs_is_valid_and_the_generator_still_writes_them(tmp_path: Path) -> None:
    Questionnaire.model_validate(json.loads((DOCS / "questionnaire-back_spasm.json").read_text()))
    written = write_examples(tmp_path)
    assert sorted(p.name for p in written) == sorted(p.name for p in DOCS.glob("*.json"))
    for path in written:
        fresh, kept = json.loads(path.read_text()), json.loads((DOCS / path.name).read_text())
        if fresh["resourceType"] == "Bundle":
            check_bundle(fresh)
            # The same resources as the docs show, but for how many texts it took (the flow's wording may change).
            assert kinds(fresh) == kinds(kept)
