"""Flask CLI commands: `flask --app service <group> <command>`."""

from __future__ import annotations

import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from .engine.loader import FlowError, load_flow
from .settings import ROOT

db_cli = AppGroup("db", help="Database schema (Alembic migrations).")
flows_cli = AppGroup("flows", help="Triage flow files: check, test, diagram, report.")


@db_cli.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Create or upgrade the schema to the latest migration."""
    from .migrate import upgrade

    upgrade(current_app.extensions["triage"].engine, revision)
    click.echo(f"database at {revision}")


@db_cli.command("revision")
@click.option("-m", "--message", required=True)
def db_revision(message: str) -> None:
    """Write a new migration from changes to service/models.py (developers)."""
    from .migrate import autogenerate

    autogenerate(current_app.extensions["triage"].engine, message)


def _flow_files(file: str | None) -> list[Path]:
    if file:
        return [Path(file)]
    return sorted(Path(current_app.extensions["triage"].settings.flows_dir).glob("*.yaml"))


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
    if failed:
        sys.exit(1)


def _simulator_app(flow_file: str | None) -> Flask:
    from . import create_app

    base = current_app.extensions["triage"].settings
    scratch = Path(tempfile.mkdtemp(prefix="triage-sim-"))
    settings = replace(base, database_url=f"sqlite:///{scratch / 'sim.sqlite3'}", transport="console",
                       dispatch="inline", auto_migrate=True, flows_dir=flow_file or base.flows_dir)
    return create_app(settings)


@click.command("simulate")
@click.option("--flow", "flow_file", help="A flow file to try (default: the served flows).")
@click.option("--phone", default="+12125550199", show_default=True, help="The number the texter seems to be.")
def simulate(flow_file: str | None, phone: str) -> None:
    """Chat through a flow in the terminal exactly as a texter would (same engine, parser, pages)."""
    from .conversations import receive_sms
    from .models import Conversation

    app = _simulator_app(flow_file)
    svc = app.extensions["triage"]
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


@click.command("clock")
def clock() -> None:
    """Run the clock process: outbox retries, escalation timers, check-ins (Procfile: clock)."""
    import signal

    from .clock import build_scheduler

    svc = current_app.extensions["triage"]
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
