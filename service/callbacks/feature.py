"""Callbacks through the clinic number: the call legs' webhooks, and the outbox hooks for a call not placed."""

from __future__ import annotations

from ..feature import Feature
from . import attempts, webhooks

FEATURE = Feature("callbacks", blueprints=(webhooks.bp,), install=attempts.install)
