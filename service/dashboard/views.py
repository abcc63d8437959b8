"""Dashboard pages. Every nurse action goes through escalation/operations.py, like the SMS commands."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, abort, current_app, flash, g, redirect, render_template, request, url_for
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..callbacks import attempts as callbacks
from ..escalation import operations
from ..escalation.cases import LANGUAGE_NAMES
from ..escalation.operations import Actor, NotAllowed
from ..flowtools import diagram
from ..models import AuditLog, Callback, Conversation, Escalation, Patient
from ..phones import mask, pretty
from ..records.store import case_summary
from ..runtime import envelope
from .auth import actor_for, admin_required, audit, audit_row, login_required, row_or_404, svc
from .blueprint import bp
from .history import patient_history
from .oncall import stretches
from .queue import (
    DISPOSITION_WORDS,
    STATUS_WORDS,
    age,
    case_flow,
    level_words,
    open_cases,
    owner,
    red_flag_labels,
    user_names,
)

log = logging.getLogger(__name__)
# Row ids are 64-bit integers: anything else, in a path or a filter, names no row (404, never a 500).
MAX_ROW_ID = 2**63 - 1
CASE_ID = f"<int(min=1, max={MAX_ROW_ID}):case_id>"


def _row_id(raw: str | None) -> int | None:
    """An id from a query string: None when absent; 404 when it is not a row id at all."""
    if raw is None or raw == "":
        return None
    if not re.fullmatch(r"[0-9]{1,19}", raw) or not 1 <= int(raw) <= MAX_ROW_ID:
        abort(404)
    return int(raw)

MESSAGE_LIMIT = 1000  # characters a nurse may send in one message (the SMS relay adds a prefix)
NOTE_LIMIT = 4000
AUDIT_PAGE = 200
ON_CALL_DAYS = 7


def clinic_zone() -> ZoneInfo:
    return ZoneInfo(svc().settings.clinic_timezone)


@bp.app_template_filter("local")
def local_time(value: datetime | None, fmt: str = "%a %d %b %H:%M", zone: str | None = None) -> str:
    """Clinic wall-clock time (or the roster's zone), as nurses think in it."""
    return value.astimezone(ZoneInfo(zone) if zone else clinic_zone()).strftime(fmt) if value else ""


@bp.app_template_filter("masked")
def masked(value: str | None) -> str:
    return mask(value)


@bp.context_processor
def page_globals() -> dict[str, Any]:
    return {"user": g.get("user"), "clinic_name": svc().settings.clinic_name,
            "refresh_seconds": current_app.config["DASHBOARD_REFRESH_SECONDS"],
            "session_poll_seconds": current_app.config["DASHBOARD_SESSION_POLL_SECONDS"]}


# --- queue -------------------------------------------------------------------------------------------

@bp.get("/")
@login_required
def queue() -> Any:
    now = svc().clock()
    with svc().factory() as session:
        rows = open_cases(svc(), session, now)
    return render_template("dashboard/queue.html", rows=rows, now=now)


@bp.get("/queue/rows")
@login_required
def queue_rows() -> Any:
    """The queue's table body, fetched by the page every few seconds."""
    now = svc().clock()
    with svc().factory() as session:
        rows = open_cases(svc(), session, now)
    return render_template("dashboard/_queue_rows.html", rows=rows, now=now)


# --- a case --------------------------------------------------------------------------------------------

@bp.get(f"/cases/{CASE_ID}")
@login_required
def case(case_id: int) -> Any:
    with svc().factory() as session:
        found = row_or_404(session, Escalation, case_id)
        patient = session.get(Patient, found.patient_id)
        assert patient is not None
        flow = case_flow(svc(), session, found)
        conversation = session.get(Conversation, found.conversation_id) if found.conversation_id else None
        history = patient_history(svc(), session, patient, clinic_zone())
        other_cases = session.scalars(select(Escalation).where(Escalation.patient_id == patient.id,
                                                               Escalation.id != found.id)
                                      .order_by(Escalation.id.desc())).all()
        calls = session.scalars(select(Callback).where(Callback.escalation_id == found.id)
                                .order_by(Callback.id)).all()
        details = {
            "disposition_words": DISPOSITION_WORDS.get(found.disposition, found.disposition),
            "level_words": level_words(found.level),
            "status_words": STATUS_WORDS.get(found.status, found.status),
            "red_flags": red_flag_labels(flow, found.red_flags),
            "owner": owner(svc(), found, user_names(session)),
            "mine": found.acknowledged_by == actor_for(g.user).label,
            "age": _age(found.created_at),
            **case_summary(svc(), session, found),  # the structured summary, above the transcript
            "times": case_times(found),
        }
    audit("view_case", escalation_id=found.id, patient_id=patient.id)
    log.info("dashboard.view_case case=%s user_id=%s", found.id, g.user.id)
    return render_template("dashboard/case.html", case=found, patient=patient, phone=pretty(patient.phone),
                           conversation=conversation, history=history, other_cases=other_cases, calls=calls,
                           outcome_words=callbacks.OUTCOME_WORDS, duration=callbacks.duration,
                           message_limit=MESSAGE_LIMIT, note_limit=NOTE_LIMIT,
                           language=LANGUAGE_NAMES.get(patient.language, patient.language), **details)


def _age(since: datetime) -> str:
    return age(since, svc().clock())


def case_times(case: Escalation) -> list[tuple[str, datetime | None, str]]:
    """The times service levels are measured by (issue #20), each with how long after the case opened."""
    via = {"sms": "by text", "voice": "by phone"}.get(case.first_contact_via or "", "")
    rows = [("Paged", case.paged_at, ""), ("Acknowledged", case.acknowledged_at, ""),
            ("First contact", case.first_contact_at, via), ("Resolved", case.resolved_at, "")]
    return [(label, at, ", ".join(filter(None, [via_words, f"{age(case.created_at, at)} after opening" if at else ""])))
            for label, at, via_words in rows]


Operation = Callable[[Session, Escalation, Actor, datetime], str]


def _act(case_id: int, action: str, operation: Operation) -> Any:
    """Run one nurse operation in one transaction with its audit row, then send what it queued."""
    user = g.user
    actor = actor_for(user)

    def work(turn: envelope.Turn[str]) -> str:
        found = operations.get_case(turn.session, case_id)
        done = operation(turn.session, found, actor, turn.now)
        turn.session.add(audit_row(user, action, turn.now, escalation_id=found.id, patient_id=found.patient_id,
                                   detail=done))
        return done

    with svc().factory() as session:  # whose case: the patient is locked, as for their own texts
        patient_id = session.scalar(select(Escalation.patient_id).where(Escalation.id == case_id))
    try:
        done = envelope.run(svc(), work, patient_id=patient_id)
    except NotAllowed as refusal:
        with svc().factory() as session:
            exists = session.get(Escalation, case_id)
        audit(action, escalation_id=exists.id if exists else None,
              patient_id=exists.patient_id if exists else None, detail=f"refused: {refusal}")
        flash(str(refusal), "error")
        if exists is None:
            return redirect(url_for("dashboard.queue"))
    else:
        flash(done, "success")
    return redirect(url_for("dashboard.case", case_id=case_id))


def _form_text(name: str, limit: int, *, required: bool, what: str) -> str | None:
    text = " ".join(request.form.get(name, "").split()) if name != "message" else request.form.get(name, "").strip()
    if required and not text:
        flash(f"Please write the {what}.", "error")
        return None
    if len(text) > limit:
        flash(f"The {what} is too long ({len(text)} characters; at most {limit}).", "error")
        return None
    return text


@bp.post(f"/cases/{CASE_ID}/acknowledge")
@login_required
def acknowledge(case_id: int) -> Any:
    def run(session: Session, found: Escalation, actor: Actor, now: datetime) -> str:
        if operations.acknowledge(svc(), session, found, actor, now):
            return f"Case {found.id} is yours. The patient was told a nurse has their case."
        return f"Case {found.id} was already yours."

    return _act(case_id, "acknowledge", run)


@bp.post(f"/cases/{CASE_ID}/message")
@login_required
def message(case_id: int) -> Any:
    text = _form_text("message", MESSAGE_LIMIT, required=True, what="message")
    if text is None:
        return redirect(url_for("dashboard.case", case_id=case_id))

    def run(session: Session, found: Escalation, actor: Actor, now: datetime) -> str:
        operations.message_patient(svc(), session, found, actor, text, now)
        return f"Message to the patient queued ({len(text)} characters)."

    return _act(case_id, "message_patient", run)


@bp.post(f"/cases/{CASE_ID}/call")
@login_required
def call(case_id: int) -> Any:
    """Ring the signed-in nurse's roster phone, then the patient, from the clinic number (as SMS CALL does)."""

    def run(session: Session, found: Escalation, actor: Actor, now: datetime) -> str:
        callbacks.request(svc(), session, found, actor, now)
        return callbacks.calling_you(actor, found)

    return _act(case_id, "call_patient", run)


@bp.post(f"/cases/{CASE_ID}/note")
@login_required
def note(case_id: int) -> Any:
    text = _form_text("note", NOTE_LIMIT, required=True, what="note")
    if text is None:
        return redirect(url_for("dashboard.case", case_id=case_id))

    def run(session: Session, found: Escalation, actor: Actor, now: datetime) -> str:
        operations.add_note(session, found, actor, text, now)
        return "Note added."

    return _act(case_id, "add_note", run)


@bp.post(f"/cases/{CASE_ID}/resolve")
@login_required
def resolve(case_id: int) -> Any:
    text = _form_text("note", NOTE_LIMIT, required=False, what="note")
    if text is None:
        return redirect(url_for("dashboard.case", case_id=case_id))

    def run(session: Session, found: Escalation, actor: Actor, now: datetime) -> str:
        operations.resolve(session, found, actor, text, now)
        return f"Case {found.id} resolved."

    return _act(case_id, "resolve", run)


# --- on call -------------------------------------------------------------------------------------------

@bp.get("/on-call")
@login_required
def on_call() -> Any:
    roster = svc().roster
    now = svc().clock()
    end = now + timedelta(days=ON_CALL_DAYS)
    found = stretches(roster, now, end)
    days: dict[str, list[Any]] = {}
    for stretch in found:
        days.setdefault(local_time(stretch.start, "%A %d %B", roster.spec.timezone), []).append(stretch)
    return render_template("dashboard/on_call.html", now=now, current=roster.on_call(now), days=days,
                           gaps=roster.gaps(now, end), roster=roster, nobody=any(s.nobody for s in found))


# --- flows ---------------------------------------------------------------------------------------------

@bp.get("/flows")
@login_required
def flows() -> Any:
    return render_template("dashboard/flows.html", flows=svc().flows.all_current())


def _loaded(flow_id: str) -> Any:
    for loaded in svc().flows.all_current():
        if loaded.flow.id == flow_id:
            return loaded
    abort(404)


@bp.get("/flows/<flow_id>")
@login_required
def flow(flow_id: str) -> Any:
    loaded = _loaded(flow_id)
    picture = Markup(diagram.svg(loaded.flow, version=loaded.version))  # built with every text escaped
    return render_template("dashboard/flow.html", loaded=loaded, flow=loaded.flow, svg=picture,
                           mermaid=diagram.mermaid(loaded.flow, header=f"{flow_id} version {loaded.version}"),
                           level_words=level_words)


@bp.get("/flows/<flow_id>/diagram.svg")
@login_required
def flow_svg(flow_id: str) -> Any:
    loaded = _loaded(flow_id)
    return Response(diagram.svg(loaded.flow, version=loaded.version), mimetype="image/svg+xml")


@bp.get("/flows/<flow_id>/diagram.mmd")
@login_required
def flow_mermaid(flow_id: str) -> Any:
    loaded = _loaded(flow_id)
    return Response(diagram.mermaid(loaded.flow, header=f"{flow_id} version {loaded.version}"),
                    mimetype="text/plain")


# --- audit log (admins) --------------------------------------------------------------------------------

@bp.get("/audit")
@admin_required
def audit_log() -> Any:
    query = select(AuditLog).order_by(AuditLog.id.desc())
    username = request.args.get("user", "").strip()
    case_id = _row_id(request.args.get("case"))
    before = _row_id(request.args.get("before"))
    if username:
        query = query.where(AuditLog.username == username)
    if case_id:
        query = query.where(AuditLog.escalation_id == case_id)
    if before:
        query = query.where(AuditLog.id < before)
    with svc().factory() as session:
        rows = session.scalars(query.limit(AUDIT_PAGE)).all()
    more = rows[-1].id if len(rows) == AUDIT_PAGE else None
    return render_template("dashboard/audit.html", rows=rows, username=username, case_id=case_id or "", more=more)
