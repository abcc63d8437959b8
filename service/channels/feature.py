"""The Twilio webhooks: SMS, voice, delivery status; and the platform's health check."""

from __future__ import annotations

from ..feature import Feature
from ..health import bp as health
from . import sms, status, voice

FEATURE = Feature("channels", blueprints=(sms.bp, voice.bp, status.bp, health))
