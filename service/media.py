"""Photos and files that come with a patient's text (MMS): kept on the conversation (`message_media`), and
shown to a nurse only through the dashboard, which fetches them with the account's credentials.

The link Twilio gives (MediaUrl<n>) stays on the server: the browser only ever sees /dashboard/media/<id>,
behind the nurse's sign-in. The transport fetches it (outbox/transports.py: the only place with the credentials),
and only a link under this account's own Messages resource is fetched at all, whatever a row holds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from .models import MessageMedia
from .settings import Settings

MAX_MEDIA = 10  # Twilio: at most 10 media items in one message
MAX_BYTES = 16 * 1024 * 1024  # Twilio takes MMS up to 5 MB: anything far larger is not what it says it is
# What a browser may show inline from us: pictures it decodes itself. Anything else (SVG, HTML, video, a
# document) is sent as a download, so a file a patient sends can never run as a page on the dashboard.
INLINE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp", "image/bmp"})
_MEDIA_PATH = re.compile(r"/(MM|SM)[0-9a-fA-F]{32}/Media/ME[0-9a-fA-F]{32}")
INSERT_MEDIA = insert(MessageMedia.__table__)


@dataclass(frozen=True)
class Media:
    """One item of an inbound message, as the webhook describes it."""

    position: int
    url: str
    content_type: str

    @property
    def image(self) -> bool:
        return self.content_type.startswith("image/")


def store(session: Session, *, message_id: int, patient_id: int, conversation_id: int | None,
          media: Iterable[Media], now: datetime) -> None:
    """The inbound text's media, beside its row (one statement, and only for a text that has any)."""
    rows = [{"message_id": message_id, "patient_id": patient_id, "conversation_id": conversation_id,
             "position": item.position, "url": item.url, "content_type": item.content_type, "created_at": now}
            for item in media]
    if rows:
        session.connection().execute(INSERT_MEDIA, rows)


def for_messages(session: Session, message_ids: list[int]) -> dict[int, list[MessageMedia]]:
    """Each message's media, in the order attached (the case page's history)."""
    found: dict[int, list[MessageMedia]] = {}
    if not message_ids:
        return found
    rows = session.scalars(select(MessageMedia).where(MessageMedia.message_id.in_(message_ids))
                           .order_by(MessageMedia.message_id, MessageMedia.position))
    for row in rows:
        found.setdefault(row.message_id, []).append(row)
    return found


def nurse_note(text: str, count: int) -> str:
    """What a nurse's phone is told of a text with media (the pictures themselves stay on the case page)."""
    if not count:
        return text
    what = "a photo or file" if count == 1 else f"{count} photos or files"
    return f"{text} [{what}: see the case on the dashboard]".strip()


def fetchable(settings: Settings, url: str) -> bool:
    """Only this account's own media: a row pointing anywhere else is never fetched with our credentials."""
    prefix = f"{settings.twilio_api_base_url.rstrip('/')}/2010-04-01/Accounts/{settings.twilio_account_sid}/Messages"
    if not settings.twilio_account_sid or not url.startswith(prefix):
        return False
    return _MEDIA_PATH.fullmatch(url[len(prefix):]) is not None


class MediaUnavailable(Exception):
    """The media could not be fetched (no Twilio account in dev, gone at Twilio, network): say so, never a 500."""


@dataclass
class Fetched:
    """An open download: its type as Twilio serves it, its bytes in chunks, and how to let it go."""

    content_type: str
    length: int | None
    chunks: Iterator[bytes]
    close: Callable[[], None]


@runtime_checkable
class MediaSource(Protocol):
    def fetch_media(self, url: str) -> Fetched:
        """Open the media at Twilio's URL with the account's credentials, or raise MediaUnavailable."""
        ...
