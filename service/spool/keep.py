"""Keep the request being answered in the spool, from any webhook (no database: only the disk)."""

from __future__ import annotations

import logging

from flask import request

from ..services import Services
from .store import Spool

log = logging.getLogger(__name__)


def keep_request(svc: Services, kind: str, answered: str) -> bool:
    """Append this webhook's request (kind: sms | voice) to the spool. Never raises: the caller is answering
    Twilio, and a full disk must not turn a safe answer into an error tone. False when it was not kept."""
    try:
        entry = Spool(svc.settings.spool_dir).keep(kind=kind, route=request.path, form=request.form.to_dict(),
                                                   answered=answered, now=svc.clock())
    except OSError as error:
        log.error("spool.not_kept kind=%s error=%s", kind, type(error).__name__)
        return False
    log.warning("spool.kept kind=%s entry=%s", kind, entry.id)  # a warning: the database is failing us
    return True
