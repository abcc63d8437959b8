"""WhatsApp's 24-hour rule, applied as each WhatsApp row is sent (the outbox's `whatsapp_rule`).

Free text may go only within 24 hours of the patient's last WhatsApp message. Outside it, the approved
template configured for the text's message key goes instead (templates.py); with none, the text is not sent:
the row fails with the reason, and the failure hook tells the nurse (unreachable.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from ..channels.twilio_errors import WHATSAPP_NO_SENDER, WHATSAPP_OUTSIDE_WINDOW
from ..models import Message, Patient
from ..outbox.outbound import SendError, Template
from ..settings import Settings
from .templates import Templates

WINDOW = timedelta(hours=24)  # WhatsApp's customer service window, from the user's last message


def choose(*, now: datetime, last_message_at: datetime | None, key: str | None, language: str,
           templates: Templates, context: dict[str, str]) -> Template | None:
    """None: free text may go. A Template: send it instead. SendError: neither may go."""
    if last_message_at is not None and now - last_message_at < WINDOW:
        return None
    template = templates.find(key, language, context)
    if template is not None:
        return template
    if last_message_at is None:
        since = "the patient has not written on WhatsApp"
    else:
        since = f"the patient last wrote on WhatsApp {_ago(now - last_message_at)} ago"
    raise SendError(f"outside WhatsApp's 24-hour window ({since}) and no template for '{key}' "
                    f"in WHATSAPP_TEMPLATES_FILE", retryable=False, code=WHATSAPP_OUTSIDE_WINDOW)


def rule(settings: Settings, templates: Templates) -> Callable[[Message, Patient | None, datetime], Template | None]:
    def whatsapp_rule(message: Message, patient: Patient | None, now: datetime) -> Template | None:
        if not settings.whatsapp_enabled:  # turned off since the patient wrote: say so, do not guess SMS
            raise SendError("WhatsApp is off (TWILIO_WHATSAPP_FROM is not set)", retryable=False,
                            code=WHATSAPP_NO_SENDER)
        return choose(now=now, last_message_at=patient.whatsapp_last_at if patient else None, key=message.key,
                      language=patient.language if patient else "en", templates=templates, context=settings.context)

    return whatsapp_rule


def _ago(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.0f} hours" if hours < 72 else f"{hours / 24:.0f} days"
