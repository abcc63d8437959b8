"""`flask --app service checkins list`: what is due, when, and when it will really go out."""

from __future__ import annotations

from datetime import datetime

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from ..models import Checkin, Patient
from ..phones import mask
from ..services import Services
from .sender import allowed_at
from .window import patient_zone

checkins_cli = AppGroup("checkins", help="Check-in texts: what is due and when.")

STATUSES = ("pending", "sent", "answered", "expired", "cancelled", "skipped", "undeliverable")


def _utc(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC") if at else "-"


@checkins_cli.command("list")
@click.option("--status", type=click.Choice([*STATUSES, "all"]), default="pending", show_default=True)
@click.option("--limit", default=50, show_default=True, help="Rows to show, soonest due first.")
def list_checkins(status: str, limit: int) -> None:
    """Check-ins by due time: UTC, the patient's local time, and when quiet hours and caps let it go."""
    svc: Services = current_app.extensions["triage"]
    now = svc.clock()
    with svc.factory() as session:
        query = select(Checkin, Patient).join(Patient, Patient.id == Checkin.patient_id)
        if status != "all":
            query = query.where(Checkin.status == status)
        rows = session.execute(query.order_by(Checkin.due_at, Checkin.id).limit(limit)).all()
        counts = dict(session.execute(select(Checkin.status, func.count()).group_by(Checkin.status)).all())
        due_now = session.scalar(select(func.count()).select_from(Checkin)
                                 .where(Checkin.status == "pending", Checkin.due_at <= now))
        click.echo(f"{'id':>7}  {'status':<9}  {'due (UTC)':<20}  {'due (patient local)':<22}  "
                   f"{'goes out (local)':<22}  {'zone':<20}  {'number':<14}  ask")
        for checkin, patient in rows:
            zone = patient_zone(patient.timezone, patient.phone, svc.settings.clinic_timezone)
            local = checkin.due_at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
            goes = "-"
            if checkin.status == "pending":
                goes = allowed_at(svc, session, patient, max(checkin.due_at, now)).astimezone(zone)\
                    .strftime("%Y-%m-%d %H:%M %Z")
            click.echo(f"{checkin.id:>7}  {checkin.status:<9}  {_utc(checkin.due_at):<20}  {local:<22}  "
                       f"{goes:<22}  {zone.key:<20}  {mask(patient.phone):<14}  {checkin.ask}")
    summary = ", ".join(f"{counts[s]} {s}" for s in STATUSES if counts.get(s))
    click.echo(f"{summary or 'no check-ins'}; {due_now} due now ({_utc(now)})")
