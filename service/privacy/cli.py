"""`flask --app service data ...`: the data keys, retention, and one patient's record."""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from ..phones import mask, to_e164
from ..services import Services
from . import retention
from .keys import new_key
from .record import NotErasable, erase_patient, export_audited, find_patient
from .rotate import PLAIN, key_status, rotate
from .sealed import keyring_of

data_cli = AppGroup("data", help="Patient data at rest: keys, rotation, retention, export and erasure.")


def _svc() -> Services:
    return current_app.extensions["triage"]


def _operator(by: str | None) -> str:
    return f"cli:{by or getpass.getuser()}"


def _patient_id(phone: str) -> int:
    svc = _svc()
    number = to_e164(phone, svc.settings.default_region)
    if number is None:
        raise click.ClickException("not a phone number")
    with svc.factory() as session:
        patient = find_patient(session, number)
        if patient is None:
            raise click.ClickException(f"no patient with the number {mask(number)}")
        return patient.id


@data_cli.command("new-key")
def data_new_key() -> None:
    """Print a new random key for DATA_KEY (32 bytes, base64url)."""
    click.echo(new_key())


@data_cli.command("status")
def data_status() -> None:
    """How many values of each sealed column each key seals (current, old) and how many are plain."""
    svc = _svc()
    keyring = keyring_of(svc.engine.dialect)
    if keyring is None:
        click.echo("DATA_KEY is not set: new values are stored readable (dev)")
    else:
        old = f"; old: {', '.join(keyring.old_ids)}" if keyring.old_ids else ""
        click.echo(f"current key {keyring.current_id}{old}")
    for column, counts in key_status(svc).items():
        parts = [f"{'plain' if kid == PLAIN else kid}: {n}" + (" (current)" if keyring and kid == keyring.current_id
                                                                else "") for kid, n in sorted(counts.items())]
        click.echo(f"{column}: {', '.join(parts) or 'empty'}")


@data_cli.command("rotate-key")
def data_rotate_key() -> None:
    """Seal every value under DATA_KEY: those under a DATA_KEY_OLD key, and plain ones."""
    svc = _svc()
    keyring = keyring_of(svc.engine.dialect)
    if keyring is None:
        raise click.ClickException("DATA_KEY is not set: there is no key to seal under")
    done = rotate(svc)
    for column, n in sorted(done.resealed.items()):
        if n:
            click.echo(f"{column}: {n} re-sealed under {keyring.current_id}")
    if done.changed_meanwhile:
        click.echo(f"{done.changed_meanwhile} rows were saved by the service meanwhile (under the current key)")
    remaining = sum(n for counts in key_status(svc).values() for kid, n in counts.items() if kid != keyring.current_id)
    click.echo(f"{sum(done.resealed.values())} values re-sealed; {remaining} not under the current key"
               + ("" if remaining else ": DATA_KEY_OLD may be removed"))
    if remaining:
        sys.exit(1)


@data_cli.command("purge")
def data_purge() -> None:
    """Purge content older than RETENTION_DAYS now (the clock does this every 15 minutes)."""
    svc = _svc()
    if svc.settings.retention_days is None:
        raise click.ClickException("RETENTION_DAYS is not set: everything is kept")
    click.echo(f"{retention.tick(svc)} rows purged (older than {svc.settings.retention_days} days)")


@data_cli.command("export-patient")
@click.argument("phone")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="file to write (default: stdout)")
@click.option("--by", help="who asks (recorded in the audit log; default: the system user)")
@click.option("--reference", default="", help="the request's reference (recorded in the audit log)")
def data_export_patient(phone: str, output: Path | None, by: str | None, reference: str) -> None:
    """Write everything held about one patient as JSON (the export is itself audited)."""
    svc = _svc()
    record = export_audited(svc, _patient_id(phone), _operator(by), reference)
    text = json.dumps(record, indent=2, ensure_ascii=False) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"patient {record['patients'][0]['id']}: written to {output}", err=True)


@data_cli.command("erase-patient")
@click.argument("phone")
@click.option("--reference", required=True, help="the documented erasure request (ticket, letter): recorded")
@click.option("--by", help="who carries it out (recorded in the audit log; default: the system user)")
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
def data_erase_patient(phone: str, reference: str, by: str | None, yes: bool) -> None:
    """Erase one patient's content and number, keeping the case skeleton and the audit trail."""
    svc = _svc()
    patient_id = _patient_id(phone)
    if not yes:
        click.confirm(f"Erase patient {patient_id}'s texts, answers, notes and number? This cannot be undone",
                      abort=True)
    try:
        counts = erase_patient(svc, patient_id, _operator(by), reference)
    except NotErasable as refusal:
        raise click.ClickException(str(refusal)) from None
    click.echo(f"patient {patient_id} erased (request {reference}): "
               + ", ".join(f"{name.replace('_', ' ')} {n}" for name, n in counts.items()))
