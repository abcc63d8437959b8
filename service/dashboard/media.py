"""GET /dashboard/media/<id>: a patient's photo or file, streamed from Twilio to a signed-in nurse.

The transport fetches it with the account's credentials (outbox/transports.py), so a nurse needs no Twilio login
and Twilio's link never reaches a browser. Each view is in the audit log, like a case view. Pictures a
browser decodes itself are shown inline; anything else is a download, so a patient's file cannot run as
a page here (with the dashboard's nosniff and script policy on every answer).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from flask import Response, g, render_template

from .. import media as media_rows
from ..media import Fetched, MediaSource, MediaUnavailable
from ..models import MessageMedia
from .auth import audit, login_required, row_or_404, svc
from .blueprint import bp
from .views import MAX_ROW_ID

log = logging.getLogger(__name__)


@bp.get(f"/media/<int(min=1, max={MAX_ROW_ID}):media_id>")
@login_required
def media(media_id: int) -> Any:
    with svc().factory() as session:
        row = row_or_404(session, MessageMedia, media_id)
    audit("view_media", patient_id=row.patient_id, detail=f"media {row.id} ({row.content_type})")
    transport = svc().outbox.transport
    if not isinstance(transport, MediaSource) or not media_rows.fetchable(svc().settings, row.url):
        log.warning("dashboard.media_refused media=%s", row.id)  # not this account's link: never fetched
        return _unavailable()
    try:
        fetched = transport.fetch_media(row.url)
    except MediaUnavailable as reason:
        log.warning("dashboard.media_unavailable media=%s reason=%s", row.id, reason)
        return _unavailable()
    if fetched.length is not None and fetched.length > media_rows.MAX_BYTES:
        fetched.close()
        log.warning("dashboard.media_too_large media=%s bytes=%s", row.id, fetched.length)
        return _unavailable()
    kind = fetched.content_type.split(";")[0].strip().lower()
    inline = kind in media_rows.INLINE_TYPES
    log.info("dashboard.view_media media=%s user_id=%s", row.id, g.user.id)
    response = Response(_capped(fetched), mimetype=kind if inline else "application/octet-stream")
    response.headers["Content-Disposition"] = f'{"inline" if inline else "attachment"}; filename="media-{row.id}"'
    if fetched.length is not None:
        response.headers["Content-Length"] = str(fetched.length)
    response.call_on_close(fetched.close)
    return response


def _capped(fetched: Fetched) -> Iterator[bytes]:
    sent = 0
    for chunk in fetched.chunks:
        sent += len(chunk)
        if sent > media_rows.MAX_BYTES:  # Twilio said nothing of its size and it will not stop: cut it off
            log.warning("dashboard.media_cut bytes=%s", sent)
            return
        yield chunk


def _unavailable() -> Any:
    return render_template("dashboard/error.html", title="Photo not available",
                           message="This photo or file could not be fetched from Twilio just now. "
                                   "Ask the patient to describe it, or try again later."), 502
