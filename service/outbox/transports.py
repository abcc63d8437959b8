"""How outbound texts leave: printed to the console (dev) or sent through twilio.rest.Client."""

from __future__ import annotations

import itertools
import json
import sys
import threading
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TextIO, TypeVar

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from twilio.twiml.voice_response import VoiceResponse

from ..channels.twilio_errors import NEVER_DELIVERABLE, WHATSAPP_NO_SENDER
from ..media import Fetched, MediaUnavailable
from ..settings import Settings
from .outbound import SendError, Template, Transport

CALL_RING_SECONDS = 30  # a call we place rings this long before Twilio gives up (no-answer)
# Reconciling an unknown outcome looks through the newest messages (or calls) from us to that one number:
# enough for any number's traffic in a send's lifetime, in pages of LIST_PAGE.
LOOKBACK, LIST_PAGE = 100, 50
T = TypeVar("T")


class ConsoleTransport:
    """Dev mode: no Twilio account needed. The row in `messages` is the record; this shows it."""

    name = "console"

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        # What it "sent" (sid, channel, to, body, when): its message list, as Twilio's is (sent_since).
        self.sent: deque[tuple[str, str, str, str | None, datetime]] = deque(maxlen=1000)

    def send_sms(self, to: str, body: str) -> str:
        return self._show("SMS", "CONSOLE", "sms", to, body, body)

    def place_call(self, to: str, say: str) -> str:
        return self._show("CALL", "CONSOLECALL", "voice", to, say, None)

    def send_whatsapp(self, to: str, body: str, template: Template | None) -> str:
        shown = body if template is None else f"(template {template.sid} {json.dumps(template.variables)})"
        return self._show("WHATSAPP", "CONSOLEWA", "whatsapp", to, shown, body if template is None else None)

    def call_webhook(self, to: str, url: str, status_url: str | None) -> str:
        return self._show("CALL", "CONSOLECALL", "voice", to, f"TwiML from {url}", None)

    def sent_since(self, channel: str, to: str, body: str | None, since: datetime) -> list[str]:
        with self._lock:
            return [sid for sid, was, number, text, at in reversed(self.sent)
                    if (was, number) == (channel, to) and at >= since and (body is None or text == body)]

    def _show(self, label: str, prefix: str, channel: str, to: str, shown: str, body: str | None) -> str:
        with self._lock:
            sid = f"{prefix}{next(self._ids):06d}"
            print(f"--- {label} {sid} to {to}\n{shown}\n---", file=self.stream or sys.stdout, flush=True)
            self.sent.append((sid, channel, to, body, datetime.now(UTC)))
        return sid

    def fetch_media(self, url: str) -> Fetched:
        raise MediaUnavailable("the console transport has no Twilio account to fetch media with")


class TwilioTransport:
    name = "twilio"

    def __init__(self, settings: Settings):
        self.from_ = settings.twilio_phone_number
        self.whatsapp_from = settings.twilio_whatsapp_from
        self.base_url = settings.public_base_url
        self.status_callback = (f"{settings.public_base_url}/twilio/status" if settings.public_base_url else None)
        http = TwilioHttpClient(timeout=settings.twilio_timeout)
        self.client = Client(settings.twilio_account_sid, settings.twilio_auth_token, http_client=http)
        # TWILIO_API_BASE_URL points the real client at a Twilio-compatible fake (tests) or proxy.
        self.client.api.base_url = settings.twilio_api_base_url.rstrip("/")
        self.media_auth = (settings.twilio_account_sid, settings.twilio_auth_token)
        self.timeout = settings.twilio_timeout
        self.voice = settings.voice_en  # alert calls speak to nurses, in English

    def send_sms(self, to: str, body: str) -> str:
        kwargs = {"to": to, "from_": self.from_, "body": body}
        if self.status_callback:
            kwargs["status_callback"] = self.status_callback
        return self._create(lambda: self.client.messages.create(**kwargs).sid)

    def send_whatsapp(self, to: str, body: str, template: Template | None) -> str:
        """Twilio's channel addresses (whatsapp:+1...) on both ends; a template goes by ContentSid, not a body."""
        if not self.whatsapp_from:
            raise SendError("WhatsApp is off (TWILIO_WHATSAPP_FROM is not set)", retryable=False,
                            code=WHATSAPP_NO_SENDER)
        to_, from_ = self._addresses("whatsapp", to)
        kwargs = {"to": to_, "from_": from_}
        if template is None:
            kwargs["body"] = body
        else:
            kwargs.update(content_sid=template.sid, content_variables=json.dumps(template.variables))
        if self.status_callback:
            kwargs["status_callback"] = self.status_callback
        return self._create(lambda: self.client.messages.create(**kwargs).sid)

    def _addresses(self, channel: str, to: str) -> tuple[str, str]:
        """(To, From) as Twilio writes them for a text on `channel`: WhatsApp's are channel addresses."""
        if channel == "whatsapp":
            return f"whatsapp:{to}", f"whatsapp:{self.whatsapp_from}"
        return to, self.from_

    def place_call(self, to: str, say: str) -> str:
        twiml = call_twiml(say, self.voice)
        return self._create(lambda: self.client.calls.create(to=to, from_=self.from_, twiml=twiml).sid)

    def call_webhook(self, to: str, url: str, status_url: str | None) -> str:
        if not self.base_url:  # Twilio must reach, and sign, our own URL
            raise SendError("PUBLIC_BASE_URL is required for calls that run our webhooks", retryable=False)
        kwargs = {"to": to, "from_": self.from_, "url": self.base_url + url, "method": "POST",
                  "timeout": CALL_RING_SECONDS}
        if status_url:
            kwargs.update(status_callback=self.base_url + status_url, status_callback_method="POST")
        return self._create(lambda: self.client.calls.create(**kwargs).sid)

    def sent_since(self, channel: str, to: str, body: str | None, since: datetime) -> list[str]:
        """What Twilio accepted from us for `to` since `since`, newest first: messages with this body (None:
        any: a template), or calls (channel voice). Twilio's list filters by date only on `DateSent`, which
        a message still queued at Twilio does not have yet, and that is the one to find: so To and From
        filter, and the time and body are compared here."""
        def matching() -> list[str]:
            if channel == "voice":
                calls = self.client.calls.list(to=to, from_=self.from_, limit=LOOKBACK, page_size=LIST_PAGE)
                return [c.sid for c in calls if c.date_created is not None and c.date_created >= since]
            if channel == "whatsapp" and not self.whatsapp_from:
                return []  # nothing can have gone: there is no sender
            to_, from_ = self._addresses(channel, to)
            found = self.client.messages.list(to=to_, from_=from_, limit=LOOKBACK, page_size=LIST_PAGE)
            return [m.sid for m in found if m.date_created is not None and m.date_created >= since
                    and (body is None or m.body == body)]

        return self._create(matching)

    def fetch_media(self, url: str) -> Fetched:
        """A patient's photo, with the account's credentials (media may require HTTP auth). Twilio answers with
        a redirect to its CDN; requests drops the credentials when the redirect leaves the host."""
        try:
            response = requests.get(url, auth=self.media_auth, stream=True, timeout=self.timeout)
        except requests.RequestException as exc:
            raise MediaUnavailable(f"network: {type(exc).__name__}") from None
        if response.status_code != 200:
            response.close()
            raise MediaUnavailable(f"twilio {response.status_code}")
        length = response.headers.get("Content-Length")
        return Fetched(response.headers.get("Content-Type", "application/octet-stream"),
                       int(length) if length and length.isdigit() else None,
                       response.iter_content(64 * 1024), response.close)

    @staticmethod
    def _create(request: Callable[[], T]) -> T:
        """One REST request, with Twilio's errors sorted into retryable or permanent."""
        try:
            return request()
        except TwilioRestException as exc:
            retryable = exc.status >= 500 or exc.status == 429 or (exc.code not in NEVER_DELIVERABLE and exc.status
                                                                   in (408, 409))
            raise SendError(f"twilio {exc.status}: {exc.msg}", retryable=retryable, code=exc.code) from None
        except (requests.RequestException, TwilioException, OSError) as exc:
            raise SendError(f"network: {type(exc).__name__}", retryable=True) from None


def call_twiml(say: str, voice: str = "") -> str:
    """What an outbound alert call plays: the words twice (a nurse picking up may miss the start), in VOICE_EN
    when one is set. A row queued before calls stored words holds its TwiML already."""
    if say.lstrip().startswith("<Response"):
        return say
    response = VoiceResponse()
    response.say(say, loop=2, voice=voice or None)
    return str(response)


def make_transport(settings: Settings) -> Transport:
    if settings.transport == "twilio":
        return TwilioTransport(settings)
    return ConsoleTransport()
