"""`flask --app service whatsapp check [FILE]`: is WhatsApp on, and which texts have a template for after the
24-hour window."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup

from ..engine.flow import Messages
from ..engine.timed import GIVE_UP, REMIND
from ..engine.yamlfile import FileProblems
from ..services import Services
from .templates import load_templates

whatsapp_cli = AppGroup("whatsapp", help="WhatsApp as a channel: the sender and the templates (README, WhatsApp).")
RUNTIME_KEYS = {REMIND, GIVE_UP, "voice_advice"}  # message keys the runtime gives texts of its own


@whatsapp_cli.command("check")
@click.argument("file", required=False)
def check(file: str | None) -> None:
    """Check WHATSAPP_TEMPLATES_FILE (or FILE): every key a text the flow can send, every SID well formed."""
    svc: Services = current_app.extensions["triage"]
    sender = svc.settings.twilio_whatsapp_from
    click.echo(f"WhatsApp: on, sender whatsapp:{sender}" if sender else
               "WhatsApp: off (TWILIO_WHATSAPP_FROM is not set): a WhatsApp message gets the whatsapp_off answer")
    path = file or svc.settings.whatsapp_templates_file
    if not path:
        click.echo("templates: none (WHATSAPP_TEMPLATES_FILE is not set): outside the 24-hour window nothing is "
                   "sent and the nurse is told")
        return
    try:
        templates = load_templates(path)
    except FileProblems as error:
        for problem in error.problems:
            click.echo(problem, err=True)
        sys.exit(1)
    flow = svc.flows.current().flow
    known = set(flow.nodes) | set(Messages.model_fields) | RUNTIME_KEYS
    unknown = sorted(set(templates.entries) - known)
    for key, entry in sorted(templates.entries.items()):
        languages = ", ".join(f"{lang} {sid}" for lang, sid in sorted(entry.content_sid.items()))
        missing = [lang for lang in flow.languages if lang not in entry.content_sid]
        note = f" (no {'/'.join(missing)}: the en template goes)" if missing else ""
        click.echo(f"{key}: {languages}{note}")
    for key in unknown:
        click.echo(f"{path}: {key}: no text of flow '{flow.id}' has this key", err=True)
    if unknown:
        sys.exit(1)
