"""Flask CLI commands: `flask --app service <group> <command>`."""

from __future__ import annotations

import signal
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from .channels.voice_terminal import terminal_call
from .clock import build_scheduler
from .db import transaction
from .engine.diff import diff_flows
from .engine.loader import FlowError, LoadedFlow, flow_files, load_flow, main_file_of, parse_stored
from .flowtools import diagram
from .flowtools.case_files import case_files
from .flowtools.conversation_tests import run_files
from .flowtools.corpus import PARTS, report
from .flowtools.report import red_flag_report
from .migrate import autogenerate, upgrade
from .models import Conversation, FlowVersion
from .runtime.conversation import lock_patient
from .runtime.sms import receive_sms
from .settings import ROOT

db_cli = AppGroup("db", help="Database schema (Alembic migrations).")
flows_cli = AppGroup("flows", help="Triage flow files: check, test, diagram, report.")


@db_cli.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Create or upgrade the schema to the latest migration."""
    upgrade(current_app.extensions["triage"].engine, revision)
    click.echo(f"database at {revision}")


@db_cli.command("revision")
@click.option("-m", "--message", required=True)
def db_revision(message: str) -> None:
    """Write a new migration from changes to service/models.py (developers)."""
    autogenerate(current_app.extensions["triage"].engine, message)


def _flow_files(file: str | None) -> list[Path]:
    if file:
        return [main_file_of(file)]  # a language file (back_spasm.es.yaml) is checked as part of its flow
    return flow_files(current_app.extensions["triage"].settings.flows_dir)  # language files belong to their flow


@flows_cli.command("check")
@click.argument("file", required=False)
def flows_check(file: str | None) -> None:
    """Lint flow files: exit 1 with `file:line: where: reason` for each problem."""
    failed = False
    for path in _flow_files(file):
        try:
            loaded = load_flow(path)
        except FlowError as error:
            failed = True
            for problem in error.problems:
                click.echo(problem, err=True)
            continue
        flow = loaded.flow
        click.echo(f"{path}: ok ({flow.id} version {loaded.version}, {len(flow.nodes)} nodes, "
                   f"{len(flow.red_flags)} red flags)")
        for lang in flow.languages:
            if not flow.reviewed_by.get(lang):
                click.echo(f"{path}: warning: no clinician has reviewed the '{lang}' text (reviewed_by.{lang})")
        _changes_since_served(path, loaded)
    if failed:
        sys.exit(1)


def _changes_since_served(path: Path, loaded: LoadedFlow) -> None:
    """Compare the file with the version patients were last served, so the edit is reviewed."""
    svc = current_app.extensions["triage"]
    try:
        with svc.factory() as session:
            served = session.scalars(select(FlowVersion).where(FlowVersion.flow_id == loaded.flow.id)
                                     .order_by(FlowVersion.first_served_at.desc()).limit(1)).first()
    except SQLAlchemyError:
        click.echo(f"{path}: (no database to compare with the served version)")
        return
    if served is None:
        click.echo(f"{path}: never served yet")
    elif served.version == loaded.version:
        click.echo(f"{path}: same as the version being served ({served.version})")
    else:
        changes = diff_flows(parse_stored(served.source, served.path).flow, loaded.flow)
        click.echo(f"{path}: changes since served version {served.version}:")
        for change in changes or ["(formatting or comments only)"]:
            click.echo(f"  {change}")


@flows_cli.command("test")
@click.argument("path", required=False)
def flows_test(path: str | None) -> None:
    """Play conversation tests (YAML) through the real engine; a readable diff for each failure."""
    target = Path(path) if path else ROOT / "tests" / "conversations"
    flows_dir = current_app.extensions["triage"].settings.flows_dir
    try:
        results = run_files(case_files(target), flows_dir, current_app.extensions["triage.create_app"])
    except FlowError as error:
        for problem in error.problems:
            click.echo(problem, err=True)
        sys.exit(1)
    failed = [r for r in results if not r.passed]
    for result in failed:
        click.echo(result.report())
    click.echo(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    if failed:
        sys.exit(1)


@flows_cli.command("report")
@click.argument("file", required=False)
def flows_report(file: str | None) -> None:
    """For a clinician's sign-off: each red flag, its level, source, question and covering cases."""
    for path in _flow_files(file):
        click.echo(red_flag_report(load_flow(path), ROOT / "tests" / "conversations"))


@flows_cli.command("corpus")
@click.option("--part", default="all", help=f"tuning, holdout1 ... {PARTS[-1]} (the newest, not required), or all")
@click.option("--flow", "flow_file", default=None, help="The flow to measure (default: flows/back_spasm.yaml).")
def flows_corpus(part: str, flow_file: str | None) -> None:
    """Recall of red flags in patients' own words (tests/corpus/), misses listed, with the exact 95% bound."""
    loaded = load_flow(flow_file or ROOT / "flows" / "back_spasm.yaml")
    text, ok = report(loaded.flow, ROOT / "tests" / "corpus", PARTS if part == "all" else (part,))
    click.echo(text)
    if not ok:
        sys.exit(1)


@flows_cli.command("diagram")
@click.argument("file")
@click.option("-o", "--output", help="Where to write: .svg (default: FILE's name with .svg) or .mmd for Mermaid text.")
def flows_diagram(file: str, output: str | None) -> None:
    """Draw a flow: the same SVG the dashboard shows (red-flag answers in red), or Mermaid text (.mmd)."""
    try:
        loaded = load_flow(file)
    except FlowError as error:
        for problem in error.problems:
            click.echo(problem, err=True)
        sys.exit(1)
    target = Path(output) if output else Path(Path(file).with_suffix(".svg").name)
    if target.suffix == ".mmd":
        text = diagram.mermaid(loaded.flow, header=f"{loaded.flow.id} version {loaded.version}")
    else:
        text = diagram.svg(loaded.flow, version=loaded.version)
    target.write_text(text, encoding="utf-8")
    click.echo(f"{target}: {loaded.flow.id} version {loaded.version}, {len(loaded.flow.nodes)} nodes")


def _simulator_app(flow_file: str | None) -> Flask:
    create_app = current_app.extensions["triage.create_app"]
    base = current_app.extensions["triage"].settings
    scratch = Path(tempfile.mkdtemp(prefix="triage-sim-"))
    settings = replace(base, database_url=f"sqlite:///{scratch / 'sim.sqlite3'}", transport="console",
                       dispatch="inline", auto_migrate=True, flows_dir=flow_file or base.flows_dir)
    return create_app(settings)


@click.command("simulate")
@with_appcontext  # like AppGroup commands: also under app.test_cli_runner()
@click.option("--flow", "flow_file", help="A flow file to try (default: the served flows).")
@click.option("--phone", default="+12125550199", show_default=True, help="The number the texter seems to be.")
@click.option("--voice", is_flag=True, help="Call instead: type keys or words, hear the prompts as a caller would.")
@click.option("--lang", "language", type=click.Choice(["en", "es"]), default="en", show_default=True,
              help="The patient's language from the first message (es: Spanish).")
def simulate(flow_file: str | None, phone: str, voice: bool, language: str) -> None:
    """Chat through a flow in the terminal exactly as a texter would (same engine, parser, pages)."""
    app = _simulator_app(flow_file)
    svc = app.extensions["triage"]
    if language != "en" and phone:
        _set_patient_language(svc, phone, language)
    if voice:
        terminal_call(svc, phone or None, click.echo)
        svc.shutdown()
        return
    click.echo("Type as the patient would. Ctrl-D to quit. Outbound pages print as '--- SMS'.")
    conversation_id = None
    while True:
        try:
            text = input("you> ")
        except EOFError:
            break
        turn = receive_sms(svc, phone=phone, text=text, sid=None)
        conversation_id = turn.conversation_id or conversation_id
        for reply in turn.replies:
            click.echo(f"line> {reply}")
        with svc.factory() as session:
            conversation = session.get(Conversation, conversation_id) if conversation_id else None
            if conversation is not None and conversation.status == "done":
                click.echo(f"[disposition: {conversation.disposition} / level: {conversation.level} / "
                           f"outcome: {conversation.outcome}]")
    svc.shutdown()


def _set_patient_language(svc, phone: str, language: str) -> None:  # type: ignore[no-untyped-def]

    with transaction(svc.factory) as session:
        lock_patient(session, phone, svc.clock()).language = language


@click.command("clock")
@with_appcontext
def clock() -> None:
    """Run the clock process: outbox retries, escalation timers, check-ins (Procfile: clock)."""
    svc = current_app.extensions["triage"]
    dev_clock = current_app.extensions.get("triage_dev_clock")
    if dev_clock is not None:  # RUN_CLOCK (on by default with SQLite) started one in create_app: one is enough
        dev_clock.shutdown(wait=False)
    scheduler = build_scheduler(svc, blocking=True)
    # SIGTERM (platform restarts): finish the job in hand, then stop.
    signal.signal(signal.SIGTERM, lambda *_: scheduler.shutdown(wait=True))
    click.echo("clock running; Ctrl-C to stop")
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass


def register(app: Flask) -> None:
    app.cli.add_command(db_cli)
    app.cli.add_command(flows_cli)
    app.cli.add_command(simulate)
    app.cli.add_command(clock)

__all__ = ["ROOT", "register"]
