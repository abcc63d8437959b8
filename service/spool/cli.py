"""`flask --app service spool replay | list`: the outage spool by hand (the clock replays it by itself)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from ..phones import mask, to_e164
from ..services import Services
from .replay import replay
from .store import Spool

spool_cli = AppGroup("spool", help="Twilio requests kept on disk while the database was down (SPOOL_DIR).")


@spool_cli.command("replay")
def spool_replay() -> None:
    """Feed what waits in the spool through the normal path, oldest first; safe to run again (exit 1 while the
    database is still down)."""
    svc: Services = current_app.extensions["triage"]
    report = replay(svc)
    click.echo(f"replayed {report.replayed}, skipped {report.skipped}, failed {report.failed}, "
               f"waiting {report.waiting}")
    if report.waiting:
        raise SystemExit(1)


@spool_cli.command("list")
def spool_list() -> None:
    """What waits in the spool, and what failed too often to be tried again (numbers masked, no words)."""
    svc: Services = current_app.extensions["triage"]
    spool = Spool(svc.settings.spool_dir)
    for title, entries in (("waiting", spool.pending()), ("failed too often (see the logs)", spool.stuck())):
        click.echo(f"{title}: {len(entries)}")
        for entry in entries:
            sid = entry.form.get("MessageSid") or entry.form.get("CallSid") or "-"
            phone = mask(to_e164(entry.form.get("From"), svc.settings.default_region))
            click.echo(f"  {entry.received_at:%Y-%m-%d %H:%M:%S} UTC  {entry.kind:5}  {phone}  {sid}  {entry.id}")
