"""WhatsApp: the outbox's rule for WhatsApp rows (the 24-hour window and templates), the hook that tells the
nurse when a patient could not be reached there, and `flask whatsapp check`. Inbound WhatsApp messages come
to the SMS webhook (channels/sms.py)."""

from __future__ import annotations

from ..feature import Feature
from ..services import Services
from . import unreachable, window
from .cli import whatsapp_cli
from .templates import load_templates


def install(svc: Services) -> None:
    svc.outbox.whatsapp_rule = window.rule(svc.settings, load_templates(svc.settings.whatsapp_templates_file))
    svc.outbox.failure_hooks.append(unreachable.tell_nurse)


FEATURE = Feature("whatsapp", commands=(whatsapp_cli,), install=install)
