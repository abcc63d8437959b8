"""The nurses' dashboard through Flask's test client: login, sessions, CSRF, roles, queue, case actions
(the same operations as the SMS commands), audit, on call, and flow diagrams."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from service.engine.loader import load_flow
from service.flowtools.diagram import RED, flow_graph
from service.models import AuditLog, Escalation, EscalationEvent, Message, User
from service.phones import mask, pretty
from service.settings import ROOT
from tests.conftest import NURSE_AVERY, PATIENT, FakeClock, Twilio, play
from tests.dashboard_client import PASSWORD, create_user, csrf_token, login  # others import them from here

SVG = "{http://www.w3.org/2000/svg}"
FLOW_FILE = ROOT / "flows" / "back_spasm.yaml"
# Red-flag answer paths through flows/back_spasm.yaml
EMERGENCY_911 = ["hi", "yes"]  # q_faint: call_911_now
EMERGENCY_ED = ["hi", "no", "yes"]  # q_bladder: ed_now
SEEN_TODAY = ["hi"] + ["no"] * 7 + ["yes"]  # q_sudden_over_60: seen_today (nurse callback)
SEEN_3_DAYS = ["hi"] + ["no"] * 11 + ["yes"]  # q_lasting: seen_within_3_days (clinic queue)


@pytest.fixture
def users(app: Flask) -> None:
    for username, role, name in (("avery", "nurse", "Nurse Avery"), ("blake", "nurse", "Nurse Blake"),
                                 ("casey", "admin", "Supervisor Casey")):
        result = create_user(app, username, role, name)
        assert result.exit_code == 0, result.output


@pytest.fixture
def nurse(app: Flask, users: None) -> FlaskClient:
    client = app.test_client()
    assert login(client, "avery").status_code == 302
    return client


def post_form(client: FlaskClient, path: str, case_id: int, **data: str):  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/dashboard/flows")  # one token per session: any page has it
    return client.post(path, data={**data, "csrf_token": token}, follow_redirects=True)


def only_case(svc) -> Escalation:  # type: ignore[no-untyped-def]
    with svc.factory() as session:
        return session.scalars(select(Escalation)).one()


def audit_actions(svc, username: str) -> list[str]:  # type: ignore[no-untyped-def]
    with svc.factory() as session:
        return list(session.scalars(select(AuditLog.action).where(AuditLog.username == username)
                                    .order_by(AuditLog.id)))


# --- login, sessions, CSRF, roles ------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/", "/dashboard/", "/dashboard/cases/1", "/dashboard/on-call",
                                  "/dashboard/flows/back_spasm", "/dashboard/audit"])
def test_logged_out_user_is_sent_to_login(app: Flask, path: str) -> None:
    response = app.test_client().get(path)
    assert response.status_code == 302
    assert "/dashboard" in response.headers["Location"]
    final = app.test_client().get(path, follow_redirects=True)
    assert final.request.path == "/dashboard/login" and b'name="password"' in final.data


def test_queue_refresh_when_logged_out_answers_401_so_the_page_reloads(app: Flask) -> None:
    response = app.test_client().get("/dashboard/queue/rows", headers={"X-Requested-With": "fetch"})
    assert response.status_code == 401


def test_wrong_password_is_refused_and_logged(app: Flask, users: None, svc) -> None:
    client = app.test_client()
    response = login(client, "avery", "not the password")
    assert response.status_code == 401 and b"Wrong username or password" in response.data
    assert client.get("/dashboard/").status_code == 302
    response = login(client, "nobody", PASSWORD)
    assert response.status_code == 401
    assert audit_actions(svc, "avery") == ["login_failed"]
    assert login(client, "avery").status_code == 302
    assert client.get("/dashboard/").status_code == 200


def test_repeated_failures_slow_the_login_down_without_locking_it(app: Flask, users: None, clock: FakeClock) -> None:
    client = app.test_client()
    for _ in range(5):
        assert login(client, "avery", "guess").status_code == 401
    early = login(client, "avery")
    assert early.status_code == 429 and early.headers["Retry-After"] == "1"  # even the right password, for now
    clock.advance(seconds=1)
    assert login(client, "avery").status_code == 302  # a wait, never a lock (tests/service/test_login_throttle.py)


def test_password_is_stored_as_scrypt_hash_only(app: Flask, users: None, svc) -> None:
    with svc.factory() as session:
        user = session.scalars(select(User).where(User.username == "avery")).one()
    assert user.password_hash.startswith("scrypt:") and PASSWORD not in user.password_hash
    assert (user.role, user.name, user.active) == ("nurse", "Nurse Avery", True)


def test_users_cli_refuses_short_passwords_bad_roles_and_duplicates(app: Flask, users: None) -> None:
    assert create_user(app, "devon", password="short").exit_code != 0
    assert create_user(app, "devon", role="doctor").exit_code != 0
    result = create_user(app, "avery")
    assert result.exit_code != 0 and "already" in result.output
    assert create_user(app, "Devon", name="Nurse Devon").exit_code == 0
    listing = app.test_cli_runner().invoke(args=["users", "list"]).output
    assert "devon\tnurse\tactive\tNurse Devon" in listing
    prompted = app.test_cli_runner().invoke(args=["users", "create", "erin", "--role", "admin"],
                                            input=f"{PASSWORD}\n{PASSWORD}\n")
    assert prompted.exit_code == 0 and PASSWORD not in prompted.output  # typed twice, never echoed
    mismatch = app.test_cli_runner().invoke(args=["users", "create", "finn", "--role", "nurse"],
                                            input=f"{PASSWORD}\nsomething else\n")
    assert mismatch.exit_code != 0
    assert login(app.test_client(), "erin").status_code == 302


def test_session_expires_after_the_configured_hours(nurse: FlaskClient, clock: FakeClock) -> None:
    assert nurse.get("/dashboard/").status_code == 200
    for _ in range(18):  # busy all shift: a page every 25 minutes keeps the idle timeout away
        clock.advance(minutes=25)
        assert nurse.get("/dashboard/").status_code == 200
    clock.advance(minutes=20)  # 7 h 50 after login
    assert nurse.get("/dashboard/").status_code == 200  # activity does not extend it past one shift
    clock.advance(minutes=11)
    response = nurse.get("/dashboard/", follow_redirects=True)
    assert response.request.path == "/dashboard/login" and b"session has ended" in response.data


def test_session_cookie_flags(app: Flask, users: None) -> None:
    client = app.test_client()
    response = login(client, "avery")
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("triage_dashboard="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Expires=" in cookie
    assert app.permanent_session_lifetime.total_seconds() == 8 * 3600


def test_disabled_account_loses_its_session(app: Flask, nurse: FlaskClient) -> None:
    assert nurse.get("/dashboard/").status_code == 200
    assert app.test_cli_runner().invoke(args=["users", "disable", "avery"]).exit_code == 0
    assert nurse.get("/dashboard/").status_code == 302


def test_logout_needs_csrf_and_ends_the_session(nurse: FlaskClient) -> None:
    assert nurse.post("/dashboard/logout").status_code == 400
    assert nurse.get("/dashboard/").status_code == 200
    token = csrf_token(nurse, "/dashboard/")
    assert nurse.post("/dashboard/logout", data={"csrf_token": token}).status_code == 302
    assert nurse.get("/dashboard/").status_code == 302


def test_login_never_redirects_off_site(app: Flask, users: None) -> None:
    client = app.test_client()
    response = login(client, "avery", next_path="https://evil.example/phish")
    assert response.headers["Location"] == "/dashboard/"
    response = login(app.test_client(), "avery", next_path="/dashboard/on-call")
    assert response.headers["Location"] == "/dashboard/on-call"


def test_forms_without_csrf_token_are_refused(app: Flask, nurse: FlaskClient, twilio: Twilio, svc) -> None:
    play(twilio, *EMERGENCY_ED)
    case = only_case(svc)
    for action in ("acknowledge", "message", "note", "resolve"):
        response = nurse.post(f"/dashboard/cases/{case.id}/{action}", data={"message": "hi", "note": "x"})
        assert response.status_code == 400 and b"Form refused" in response.data
        bad = nurse.post(f"/dashboard/cases/{case.id}/{action}", data={"note": "x", "csrf_token": "forged"})
        assert bad.status_code == 400
    assert only_case(svc).status == "paged"
    anonymous = app.test_client()
    assert anonymous.post("/dashboard/login", data={"username": "avery", "password": PASSWORD}).status_code == 400


def test_signed_webhooks_are_not_csrf_checked(app: Flask, users: None, twilio: Twilio) -> None:
    reply = twilio.sms("hello")
    assert reply.status == 200 and "911" in reply.text
    unsigned = app.test_client().post("/twilio/sms", data={"From": PATIENT, "Body": "hi"})
    assert unsigned.status_code == 403  # still protected by the Twilio signature


def test_audit_log_is_for_admins_only(app: Flask, nurse: FlaskClient, svc) -> None:
    assert nurse.get("/dashboard/audit").status_code == 403
    assert b"Audit log" not in nurse.get("/dashboard/").data
    admin = app.test_client()
    login(admin, "casey")
    page = admin.get("/dashboard/audit").get_data(as_text=True)
    assert "forbidden" in page and "avery" in page and "login" in page
    assert admin.get("/dashboard/audit?user=avery").status_code == 200


def test_pages_are_not_cached_or_framed(nurse: FlaskClient) -> None:
    response = nurse.get("/dashboard/")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


# --- queue ----------------------------------------------------------------------------------------------

def queue_order(client: FlaskClient) -> list[int]:
    html = client.get("/dashboard/queue/rows").get_data(as_text=True)
    return [int(n) for n in re.findall(r'data-case="(\d+)"', html)]


def test_queue_orders_by_disposition_then_age_and_masks_numbers(nurse: FlaskClient, twilio: Twilio, clock: FakeClock,
                                                             svc) -> None:
    patients = {name: f"+1212555{n:04d}" for n, name in enumerate(["ed_old", "today", "clinic", "e911", "ed_new"],
                                                                   start=200)}
    for name, answers in (("clinic", SEEN_3_DAYS), ("today", SEEN_TODAY), ("ed_old", EMERGENCY_ED),
                          ("e911", EMERGENCY_911), ("ed_new", EMERGENCY_ED)):
        play(twilio, *answers, frm=patients[name])
        clock.advance(minutes=3)
    with svc.factory() as session:
        case_of = {p.phone: c.id for c in session.scalars(select(Escalation)) for p in [c.patient]}
        dispositions = {c.id: c.disposition for c in session.scalars(select(Escalation))}
    expected = [case_of[patients[n]] for n in ("ed_old", "e911", "ed_new", "today", "clinic")]
    assert [dispositions[c] for c in expected] == ["emergency"] * 3 + ["nurse_callback", "clinic_queue"]
    assert queue_order(nurse) == expected
    page = nurse.get("/dashboard/").get_data(as_text=True)
    for phone in patients.values():
        assert phone not in page and pretty(phone) not in page and phone[-7:] not in page
        assert mask(phone) in page
    assert "loss of bladder or bowel control" in page  # the flow's red-flag label
    assert "ED NOW" in page and "CALL 911 NOW" in page and "paged Nurse Avery" in page
    assert "15 min" in page  # the oldest waited 5 x 3 minutes


def test_queue_leaves_out_resolved_cases(nurse: FlaskClient, twilio: Twilio, svc) -> None:
    play(twilio, *EMERGENCY_ED)
    case = only_case(svc)
    assert queue_order(nurse) == [case.id]
    post_form(nurse, f"/dashboard/cases/{case.id}/resolve", case.id, note="called, went to ED")
    assert queue_order(nurse) == []
    assert b"No open cases" in nurse.get("/dashboard/queue/rows").data


# --- a case: history and actions ----------------------------------------------------------------------------

def test_case_page_shows_whole_history_and_full_number_and_is_audited(nurse: FlaskClient, twilio: Twilio,
                                                                      svc, clock: FakeClock) -> None:
    play(twilio, "hi, my back hurts", "no", "yes")
    case = only_case(svc)
    with svc.factory() as session, session.begin():  # a voicemail left on the voice line
        found = session.get(Escalation, case.id)
        found.recording_url = "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1"
        session.add(Message(patient_id=case.patient_id, direction="in", channel="voice", kind="answer",
                            body="pressed 1", status="received", created_at=clock()))
    page = nurse.get(f"/dashboard/cases/{case.id}").get_data(as_text=True)
    assert pretty(PATIENT) in page and f'href="tel:{PATIENT}"' in page
    for words in ("hi, my back hurts", "lost control of your bladder", "emergency department now",
                  "To Nurse Avery", "paged", "opened", "pressed 1", "Recordings/RE1", "Listen to the recording",
                  "loss of bladder or bowel control", "outcome out_ed_now"):
        assert words in page, words
    assert audit_actions(svc, "avery") == ["login", "view_case"]
    with svc.factory() as session:
        row = session.scalars(select(AuditLog).where(AuditLog.action == "view_case")).one()
    assert (row.escalation_id, row.patient_id, row.at) == (case.id, case.patient_id, clock())
    assert nurse.get("/dashboard/cases/999").status_code == 404


def test_actions_are_the_nurse_operations_and_reach_the_patient(nurse: FlaskClient, twilio: Twilio, twilio_fake,
                                                                svc) -> None:
    play(twilio, *EMERGENCY_ED)
    case = only_case(svc)
    page = post_form(nurse, f"/dashboard/cases/{case.id}/acknowledge", case.id)
    assert b"is yours" in page.data
    acknowledged = only_case(svc)
    # the dashboard user is roster nurse Avery: the case is hers by phone too, exactly as an SMS ACK
    assert (acknowledged.status, acknowledged.acknowledged_by, acknowledged.nurse_phone) == (
        "acknowledged", "avery", NURSE_AVERY)
    to_patient = [m["body"] for m in twilio_fake.messages if m["to"] == PATIENT]
    assert any("a nurse has your case" in body for body in to_patient)

    post_form(nurse, f"/dashboard/cases/{case.id}/message", case.id, message="Please go to the ED now, I called ahead.")
    relay = [m["body"] for m in twilio_fake.messages if m["to"] == PATIENT][-1]
    assert relay == "Nurse Avery (Test Spine Clinic): Please go to the ED now, I called ahead."

    post_form(nurse, f"/dashboard/cases/{case.id}/note", case.id, note="Wife driving her to the ED.")
    page = post_form(nurse, f"/dashboard/cases/{case.id}/resolve", case.id, note="Seen in ED")
    assert b"resolved" in page.data and b"Wife driving her to the ED." in page.data
    with svc.factory() as session:
        events = [(e.event, e.actor) for e in session.scalars(select(EscalationEvent)
                                                              .where(EscalationEvent.escalation_id == case.id))]
        relayed = session.scalars(select(Message).where(Message.kind == "relay")).one()
    assert ("acknowledged", "avery") in events and ("nurse_message", "avery") in events
    assert ("note", "avery") in events and ("resolved", "avery") in events
    assert relayed.status == "sent" and relayed.escalation_id == case.id
    assert only_case(svc).status == "resolved"
    actions = [a for a in audit_actions(svc, "avery") if a != "view_case"]  # each action shows the case again
    assert actions == ["login", "acknowledge", "message_patient", "add_note", "resolve"]
    assert twilio_fake.violations == []


def test_not_allowed_is_shown_and_audited_and_changes_nothing(app: Flask, nurse: FlaskClient, twilio: Twilio,
                                                              svc) -> None:
    play(twilio, *EMERGENCY_ED)
    case = only_case(svc)
    post_form(nurse, f"/dashboard/cases/{case.id}/acknowledge", case.id)
    blake = app.test_client()
    login(blake, "blake")
    page = post_form(blake, f"/dashboard/cases/{case.id}/resolve", case.id, note="mine now")
    assert b"belongs to another nurse" in page.data and b"flash-error" in page.data
    assert only_case(svc).status == "acknowledged"
    with svc.factory() as session:
        refused = session.scalars(select(AuditLog).where(AuditLog.username == "blake",
                                                         AuditLog.action == "resolve")).one()
    assert refused.detail.startswith("refused:") and refused.escalation_id == case.id
    admin = app.test_client()  # an admin may act on any case
    login(admin, "casey")
    post_form(admin, f"/dashboard/cases/{case.id}/resolve", case.id, note="supervisor closed")
    assert only_case(svc).status == "resolved"


def test_empty_or_too_long_message_is_refused_before_any_send(nurse: FlaskClient, twilio: Twilio, twilio_fake,
                                                              svc) -> None:
    play(twilio, *EMERGENCY_ED)
    case = only_case(svc)
    sent = len(twilio_fake.messages)
    page = post_form(nurse, f"/dashboard/cases/{case.id}/message", case.id, message="   ")
    assert b"Please write the message" in page.data
    page = post_form(nurse, f"/dashboard/cases/{case.id}/message", case.id, message="x" * 1001)
    assert b"too long" in page.data
    assert len(twilio_fake.messages) == sent and only_case(svc).status == "paged"


# --- on call --------------------------------------------------------------------------------------------------

def test_on_call_page_shows_now_and_the_week_with_gaps(nurse: FlaskClient) -> None:
    page = " ".join(nurse.get("/dashboard/on-call").get_data(as_text=True).split())
    now = page.split("<h2>Gaps")[0]
    assert "Nurse Avery" in now and "primary" in now and "Supervisor Casey" in now
    assert "holiday cover for Nurse Avery" in page  # Friday's override
    # roster.example.yaml leaves weekend nights to the supervisor alone
    assert "Fri 06 Mar 22:00 – Sat 07 Mar 09:00: pages go to Supervisor Casey" in page
    assert page.count("GAP: no primary") == 3


# --- flows ------------------------------------------------------------------------------------------------------

def red_flag_choices() -> set[tuple[str, str]]:
    flow = load_flow(FLOW_FILE).flow
    return {(node_id, choice.next) for node_id, node in flow.nodes.items() for choice in getattr(node, "choices", [])
            if choice.red_flag}


def test_flows_diagram_cli_writes_svg_with_red_flag_edges_in_red(app: Flask, tmp_path: Path) -> None:
    out = tmp_path / "flow.svg"
    result = app.test_cli_runner().invoke(args=["flows", "diagram", str(FLOW_FILE), "-o", str(out)])
    assert result.exit_code == 0, result.output
    root = ET.parse(out).getroot()
    assert root.tag == f"{SVG}svg"
    edges = root.findall(f".//{SVG}path[@data-source]")
    red = {(e.get("data-source"), e.get("data-target")) for e in edges if e.get("stroke") == RED}
    assert red == red_flag_choices() and len(red) >= 6
    flow = load_flow(FLOW_FILE).flow
    drawn = {g.get("data-node") for g in root.findall(f".//{SVG}g[@data-node]")}
    assert drawn == set(flow.nodes)
    palettes = {g.get("data-node"): g.get("data-palette") for g in root.findall(f".//{SVG}g[@data-node]")}
    assert palettes["out_call_911"] == "emergency" and palettes["out_home_care"] == "self_care"
    assert palettes["out_seen_today"] == "nurse_callback" and palettes["out_seen_3_days"] == "clinic_queue"


def test_flows_diagram_cli_writes_mermaid_with_red_link_styles(app: Flask, tmp_path: Path) -> None:
    out = tmp_path / "flow.mmd"
    assert app.test_cli_runner().invoke(args=["flows", "diagram", str(FLOW_FILE), "-o", str(out)]).exit_code == 0
    text = out.read_text()
    assert "flowchart TD" in text
    links = [line.strip() for line in text.splitlines() if "-->" in line or "-.->" in line]
    styled = re.search(r"linkStyle ([\d,]+) stroke:#c62828", text)
    assert styled
    red_links = {links[int(i)] for i in styled.group(1).split(",")}
    for source, target in red_flag_choices():
        assert any(link.startswith(f"{source} -->") and link.endswith(f" {target}") for link in red_links)
    graph = flow_graph(load_flow(FLOW_FILE).flow)
    assert len(links) == len(graph.edges) + len(graph.anywhere)


def test_flows_diagram_cli_reports_a_broken_flow(app: Flask, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(FLOW_FILE.read_text().replace("next: q_bladder", "next: q_nowhere"))
    result = app.test_cli_runner().invoke(args=["flows", "diagram", str(broken), "-o", str(tmp_path / "x.svg")])
    assert result.exit_code == 1 and "q_nowhere" in result.output
    assert not (tmp_path / "x.svg").exists()


def test_flow_page_shows_the_diagram_of_the_served_version(nurse: FlaskClient, svc) -> None:
    loaded = svc.flows.current("back_spasm")
    page = nurse.get("/dashboard/flows/back_spasm").get_data(as_text=True)
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in page and loaded.version in page
    assert "flowchart TD" in page and "Red flags" in page and "references.md" in page
    svg = nurse.get("/dashboard/flows/back_spasm/diagram.svg")
    assert svg.mimetype == "image/svg+xml" and ET.fromstring(svg.data).tag == f"{SVG}svg"
    assert nurse.get("/dashboard/flows/nope").status_code == 404
    assert "back_spasm" in nurse.get("/dashboard/flows").get_data(as_text=True)


HUGE = "9223372036854775808"  # one past the largest 64-bit row id


@pytest.mark.parametrize("path", [f"/dashboard/cases/{HUGE}", "/dashboard/cases/99999999999999999999999",
                                  "/dashboard/cases/0", "/dashboard/cases/-1", "/dashboard/cases/1x"])
def test_a_case_id_out_of_range_or_malformed_is_404(nurse: FlaskClient, path: str) -> None:
    assert nurse.get(path).status_code == 404


def test_a_form_for_a_huge_case_id_is_404(nurse: FlaskClient) -> None:
    token = csrf_token(nurse, "/dashboard/flows")
    for action in ("acknowledge", "message", "note", "resolve"):
        reply = nurse.post(f"/dashboard/cases/{HUGE}/{action}", data={"csrf_token": token, "text": "x", "note": "x"})
        assert reply.status_code == 404, action


@pytest.mark.parametrize("query", [f"case={HUGE}", "case=abc", "case=%C2%B2", f"before={HUGE}", "before=-3"])
def test_the_audit_filter_with_a_bad_id_is_404(app: Flask, users: None, query: str) -> None:
    admin = app.test_client()
    assert login(admin, "casey").status_code == 302
    assert admin.get(f"/dashboard/audit?{query}").status_code == 404
    assert admin.get("/dashboard/audit?case=1").status_code == 200


def test_hsts_only_when_the_public_address_is_https(settings, clock) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from service import create_app

    for base, expected in (("https://triage.example.org", "max-age=31536000; includeSubDomains"), ("", None)):
        application = create_app(replace(settings, public_base_url=base), clock=clock)
        try:
            reply = application.test_client().get("/dashboard/login")
            assert reply.headers.get("Strict-Transport-Security") == expected, base
        finally:
            application.extensions["triage"].shutdown()
            application.extensions["triage"].engine.dispose()
