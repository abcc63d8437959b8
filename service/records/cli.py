"""`flask --app service cases show CASE` (the structured summary) and `flask --app service fhir ...`
(the flow as a Questionnaire; a conversation, or every one since a date, as a Bundle). Every export of a
patient's record is written in the audit log, as the case page's download is."""

from __future__ import annotations

import getpass
import os
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import AppGroup

from ..db import transaction
from ..engine.loader import FlowError, LoadedFlow, load_flow
from ..models import AuditLog, FlowVersion
from ..services import Services
from . import store
from .bundle import export_text
from .fhir import Addresses, dumps
from .plain import summary_text
from .questionnaire import questionnaire

cases_cli = AppGroup("cases", help="Nurse cases: the structured summary of a conversation.")
fhir_cli = AppGroup("fhir", help="FHIR (R4B) export: the flow as a Questionnaire, conversations as Bundles.")


def _svc() -> Services:
    return current_app.extensions["triage"]


def _conversation_id(svc: Services, case_id: int | None, conversation_id: int | None) -> int:
    if (case_id is None) == (conversation_id is None):
        raise click.UsageError("give a CASE number or --conversation ID (not both)")
    if conversation_id is not None:
        return conversation_id
    with svc.factory() as session:
        found = store.conversation_of_case(session, case_id)  # type: ignore[arg-type]
    if found is None:
        raise click.ClickException(f"there is no case {case_id} with a conversation")
    return found


def _record(svc: Services, conversation_id: int) -> store.ConversationRecord:
    with svc.factory() as session:
        record = store.load(svc, session, conversation_id)
    if record is None:
        raise click.ClickException(f"there is no conversation {conversation_id}")
    return record


def _audit(svc: Services, action: str, record: store.ConversationRecord, detail: str) -> None:
    """Who read or exported a patient's record from the command line, as for the dashboard."""
    with transaction(svc.factory) as session:
        session.add(AuditLog(at=svc.clock(), username=f"cli:{getpass.getuser()}"[:64], action=action,
                             escalation_id=record.cases[-1].id if record.cases else None,
                             patient_id=record.patient.id, detail=detail))


@cases_cli.command("show")
@click.argument("case_id", type=int, required=False)
@click.option("--conversation", "conversation_id", type=int, help="A conversation without a case (home care).")
def show_case(case_id: int | None, conversation_id: int | None) -> None:
    """The questions asked, the patient's words, how each was read, the red flags and the disposition."""
    svc = _svc()
    record = _record(svc, _conversation_id(svc, case_id, conversation_id))
    _audit(svc, "cli_show_case", record, f"conversation {record.conversation.id}")
    click.echo(summary_text(store.summary_of(svc, record), record.conversation.id, list(record.cases),
                            record.patient.phone))


def _flow(svc: Services, flow: str, version: str | None) -> LoadedFlow:
    if version is not None:
        with svc.factory() as session:
            if session.get(FlowVersion, version) is None:
                raise click.ClickException(f"version {version} was never served")
            return svc.flows.pinned(session, flow, version)
    if flow.endswith(".yaml") or os.sep in flow:
        try:
            return load_flow(flow)
        except FlowError as error:
            raise click.ClickException("\n".join(error.problems)) from None
    for loaded in svc.flows.all_current():
        if loaded.flow.id == flow:
            return loaded
    raise click.ClickException(f"no flow {flow!r} (served: {', '.join(f.flow.id for f in svc.flows.all_current())})")


def _write(text: str, out: str | None) -> None:
    if out is None:
        click.echo(text, nl=False)
        return
    # A patient's record: readable by this account only.
    descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)


@fhir_cli.command("questionnaire")
@click.argument("flow")
@click.option("--version", help="A version served before (its content hash), from the database.")
@click.option("-o", "--out", type=click.Path(dir_okay=False), help="Write to this file (default: stdout).")
def fhir_questionnaire(flow: str, version: str | None, out: str | None) -> None:
    """FLOW (a flow id or file) as a Questionnaire whose version is the flow's content hash."""
    svc = _svc()
    loaded = _flow(svc, flow, version)
    _write(dumps(questionnaire(loaded, Addresses(svc.settings.fhir_base), svc.context)), out)


def _since(value: datetime) -> datetime:
    """A date or time without a zone is the clinic's wall clock."""
    return value if value.tzinfo else value.replace(tzinfo=ZoneInfo(_svc().settings.clinic_timezone))


@fhir_cli.command("export")
@click.argument("case_id", type=int, required=False)
@click.option("--conversation", "conversation_id", type=int, help="A conversation without a case (home care).")
@click.option("--since", type=click.DateTime(), help="Every conversation that changed since then (clinic time).")
@click.option("-o", "--out", type=click.Path(), help="A file for one Bundle; a directory with --since.")
def fhir_export(case_id: int | None, conversation_id: int | None, since: datetime | None, out: str | None) -> None:
    """CASE's conversation as a Bundle (collection); or, with --since DATE --out DIR, one file per conversation."""
    svc = _svc()
    if since is None:
        record = _record(svc, _conversation_id(svc, case_id, conversation_id))
        text = export_text(svc, record)
        _audit(svc, "cli_export_fhir", record, f"conversation {record.conversation.id}")
        _write(text, out)
        return
    if case_id is not None or conversation_id is not None or out is None:
        raise click.UsageError("--since takes --out DIR and no CASE or --conversation")
    directory = Path(out)
    directory.mkdir(parents=True, exist_ok=True)
    with svc.factory() as session:
        ids = store.conversations_since(session, _since(since))
    for found in ids:
        record = _record(svc, found)
        _write(export_text(svc, record), str(directory / f"conversation-{found}.json"))
        _audit(svc, "cli_export_fhir", record, f"conversation {found}, batch since {since.isoformat()}")
    click.echo(f"{len(ids)} bundles written to {directory}", err=True)
