"""Logging: one event per line, key=value. Callers log ids and masked numbers, never bodies."""

from __future__ import annotations

import logging
import os
import sys


def configure_logging() -> None:
    root = logging.getLogger()
    if getattr(root, "_triage_configured", False):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s level=%(levelname)s logger=%(name)s event=%(message)s"))
    root.addHandler(handler)
    root.setLevel(os.environ.get("LOG_LEVEL", "INFO").upper())
    root._triage_configured = True  # type: ignore[attr-defined]
