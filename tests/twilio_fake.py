"""Local Twilio REST fake, kept honest by Twilio's own OpenAPI description.

Usage (pytest)::

    pytest_plugins = ["tests.twilio_fake"]   # in the root conftest.py, or in a module:
    from tests.twilio_fake import twilio_fake_fixture  # noqa: F401

    def test_sends(twilio_fake):
        client = Client(twilio_fake.account_sid, twilio_fake.auth_token)
        client.api.base_url = twilio_fake.base_url  # or: client = twilio_fake.client()
        client.messages.create(to="+15551230000", from_="+15557650000", body="hi")
        assert twilio_fake.messages[0]["body"] == "hi"
        assert twilio_fake.violations == []

Pointing twilio-python 9.x at the fake: every resource URL is built by
``twilio.base.domain.Domain.absolute_url`` from the domain's ``base_url`` at
request time, and ``Client.api`` caches its ``Api`` domain, so assigning
``client.api.base_url`` redirects ``client.messages`` / ``client.calls`` too.
Caveats: ``TWILIO_EDGE`` / ``TWILIO_REGION`` (env or Client args) make the
client rewrite the host name, so ``TwilioFake.client()`` clears them; an
``HTTP_PROXY`` without ``NO_PROXY=127.0.0.1`` would route requests to the proxy.

Every request is checked against the spec (path, auth, form body types, enums,
patterns, required fields) plus the operation's ``x-twilio.conditional`` groups
(e.g. From|MessagingServiceSid and Body|MediaUrl|ContentSid) and unknown form
fields. Failures answer 400 and are appended to ``fake.violations``.

Channel addresses, as the spec's To/From descriptions give them: a number in
E.164 or ``whatsapp:`` and a number in E.164, To and From on the same channel
(Twilio's 21910 otherwise). ContentVariables, which the spec says needs
ContentSid, must be a JSON object of strings. A message records its ``channel``
(sms | whatsapp), ``content_sid`` and ``content_variables`` (parsed).

Media (MMS): ``add_media(bytes, content_type)`` returns a MediaUrl as Twilio puts
it in an incoming-message webhook. GET on it (with the account's credentials:
the fake holds every account to HTTP auth on media) answers 307 to a CDN link
on another host name (``localhost``) that serves the bytes, as Twilio does;
``<MediaUrl>.json`` is FetchMedia,
checked against the spec like the rest. Fetches are in ``fake.media_fetches``.

Lists: ListMessage and ListCall answer as the spec's ListMessageResponse and
ListCallResponse: newest first, the spec's filters (To, From, DateSent / DateSent<
/ DateSent>; for calls also ParentCallSid, Status, StartTime and EndTime), paging
by PageSize (default 50), Page and PageToken, with uri / first_page_uri /
next_page_uri / previous_page_uri. The fake delivers nothing, so its messages
stay ``queued`` with no ``date_sent`` (and its calls have no start_time), and a
DateSent filter matches none of them, as Twilio's would not match a message it
has not sent yet. Each list answered is in ``fake.lists``.

Fault injection only hits requests that would otherwise succeed:
``fail_next``/``error_next`` answer with a Twilio JSON error (recorded in
``fake.rejected``); ``delay_next`` sleeps first and then answers normally, and
the request IS recorded, as real Twilio would still send a message whose
HTTP response the client gave up waiting for. ``hold_next`` carries the request
out at once (the message is recorded) and holds the answer back until
``release()``: the sender can be killed after Twilio accepted its message and
before it heard so.
"""

from __future__ import annotations

import copy
import email.utils
import json
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Self
from urllib.parse import parse_qs, urlencode

import pytest
import yaml
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from twilio.rest import Client
from werkzeug.datastructures import Headers, ImmutableMultiDict
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

SPEC_ENV_VAR = "TWILIO_OPENAPI_SPEC"
# The spec's server; requests are presented to the validator as if sent there.
TWILIO_API_HOST = "https://api.twilio.com"
TEST_AUTH_TOKEN = "test-token"

# Twilio error codes used by the fake (https://www.twilio.com/docs/api/errors).
AUTH_ERROR_CODE = 20003  # "Authenticate"
NOT_FOUND_CODE = 20404
METHOD_NOT_ALLOWED_CODE = 20004
VALIDATION_ERROR_CODE = 70002  # "Bad request": body does not match the API schema
INTERNAL_ERROR_CODE = 20500
TOO_MANY_REQUESTS_CODE = 20429

KNOWN_ERROR_MESSAGES = {
    20429: "Too Many Requests",
    20500: "An internal server error has occurred",
    21211: "The 'To' number is not a valid phone number.",
    21408: "Permission to send an SMS has not been enabled for the region indicated by the 'To' number",
    21610: "Attempt to send to unsubscribed recipient",
    21614: "'To' number is not a valid mobile number",
    63007: "Twilio could not find a Channel with the specified From address",
    63016: "Failed to send freeform message because you are outside the allowed window. Please use a Template.",
}
CHANNEL_PREFIXES = ("whatsapp",)  # `<channel>:<E.164>` addresses the fake knows
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")

MESSAGES_PATH = "/2010-04-01/Accounts/{AccountSid}/Messages.json"
CALLS_PATH = "/2010-04-01/Accounts/{AccountSid}/Calls.json"
CALL_PATH = "/2010-04-01/Accounts/{AccountSid}/Calls/{Sid}.json"
MEDIA_PATH = "/2010-04-01/Accounts/{AccountSid}/Messages/{MessageSid}/Media/{Sid}.json"
# The media itself: the same path without ".json" (Twilio's documented MediaUrl; the spec lists only the JSON).
MEDIA_CONTENT = re.compile(r"/2010-04-01/Accounts/([^/]+)/Messages/([^/]+)/Media/([^/.]+)")
CDN_PREFIX = "/media-cdn/"


@dataclass(frozen=True)
class Operation:
    """One implemented Twilio operation and the spec pieces the fake reuses."""

    operation_id: str
    path: str
    method: str
    success_status: int
    example: str  # name of the spec response example used as body template


OPERATIONS = (
    Operation("CreateMessage", MESSAGES_PATH, "post", 201, "create"),
    Operation("ListMessage", MESSAGES_PATH, "get", 200, "readFullPage1"),
    Operation("CreateCall", CALLS_PATH, "post", 201, "create"),
    Operation("ListCall", CALLS_PATH, "get", 200, "readFullPage1"),
    Operation("UpdateCall", CALL_PATH, "post", 200, "update"),
    Operation("FetchMedia", MEDIA_PATH, "get", 200, "fetch"),
)
OPERATIONS_BY_ID = {op.operation_id: op for op in OPERATIONS}


# --------------------------------------------------------------------------
# Spec loading (once per process) and validation
# --------------------------------------------------------------------------


def default_spec_path() -> Path:
    """`$TWILIO_OPENAPI_SPEC`, else `<repo root>/../shared/twilio/...yaml`."""
    override = os.environ.get(SPEC_ENV_VAR)
    if override:
        return Path(override)
    repo_root = Path(__file__).resolve().parent.parent
    return repo_root.parent / "shared" / "twilio" / "twilio_api_v2010.yaml"


def _collect_refs(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            found.add(ref)
        for value in node.values():
            _collect_refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _collect_refs(value, found)


def _extract_subset(full: dict[str, Any]) -> dict[str, Any]:
    """Keep only the implemented operations and the components they reference.

    Why: openapi-core builds and validates far faster on a ~70 KB document than
    on the 1.5 MB original, and every schema still comes verbatim from Twilio.
    """
    paths: dict[str, Any] = {}
    for op in OPERATIONS:
        item = full["paths"][op.path]
        kept = paths.setdefault(op.path, {k: v for k, v in item.items() if k in ("servers", "parameters")})
        kept[op.method] = item[op.method]
    components: dict[str, Any] = {"securitySchemes": full["components"]["securitySchemes"]}
    pending: set[str] = set()
    _collect_refs(paths, pending)
    seen: set[str] = set()
    while pending:
        ref = pending.pop()
        if ref in seen:
            continue
        seen.add(ref)
        _, _, section, name = ref.split("/")  # "#/components/<section>/<name>"
        node = full["components"][section][name]
        components.setdefault(section, {})[name] = node
        _collect_refs(node, pending)
    keys = ("openapi", "info", "servers", "security")
    return {
        **{k: full[k] for k in keys if k in full},
        "paths": paths,
        "components": components,
    }


def _camel_to_snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


@dataclass(frozen=True)
class _OpenAPIRequest:
    """Minimal openapi-core Request protocol implementation."""

    path: str
    method: str
    body: bytes | None
    content_type: str
    headers: dict[str, str]
    host_url: str = TWILIO_API_HOST
    query: ImmutableMultiDict[str, str] = field(default_factory=ImmutableMultiDict)
    parameters: RequestParameters = field(init=False)

    def __post_init__(self) -> None:
        params = RequestParameters(
            query=self.query,
            header=Headers(self.headers),
            cookie=ImmutableMultiDict(),
        )
        object.__setattr__(self, "parameters", params)


@dataclass(frozen=True)
class _OpenAPIResponse:
    """Minimal openapi-core Response protocol implementation."""

    status_code: int
    data: bytes
    content_type: str = "application/json"
    headers: Headers = field(default_factory=Headers)


def _format_openapi_error(error: Exception) -> list[str]:
    """Flatten openapi-core errors into readable lines, one per schema error."""
    cause = error.__cause__
    schema_errors = list(getattr(cause, "schema_errors", None) or [])
    if not schema_errors:
        return [str(error)]
    lines = []
    for schema_error in schema_errors:
        where = ".".join(str(p) for p in getattr(schema_error, "absolute_path", []))
        message = getattr(schema_error, "message", str(schema_error))
        lines.append(f"{where}: {message}" if where else message)
    return lines


class TwilioSpec:
    """The implemented operations of Twilio's spec, ready to validate against."""

    def __init__(self, source: Path, document: dict[str, Any], load_seconds: float) -> None:
        self.source = source
        self.document = document
        self.load_seconds = load_seconds
        # Twilio's file is trusted and the subset is checked once in the
        # self-test, so skip openapi-spec-validator here (saves ~1 s/process).
        # `phone-number`, Twilio's own format: a query parameter (ListMessage's To) must have a formatter.
        # What an address must look like is checked by _message_channel_errors; here any string passes.
        phone = {"phone-number": lambda value: isinstance(value, str)}
        self.openapi = OpenAPI.from_dict(document, config=Config(
            spec_validator_cls=None, extra_format_validators=phone,
            extra_format_unmarshallers={"phone-number": str}))
        # openapi-core's lazy caches are not documented thread-safe; the fake's
        # server is threaded, so serialise validation (it takes a few ms).
        self._lock = threading.Lock()
        # openapi-core's verdict on a request, by its shape (see _shape): validating a form costs it 15-20 ms
        # of CPU, which made the fake, not the service, the bottleneck of a benchmark's surge of pages.
        self._verdicts: dict[tuple[Any, ...], list[str]] = {}
        self._free: dict[str, frozenset[str]] = {}

    def operation(self, op: Operation) -> dict[str, Any]:
        return self.document["paths"][op.path][op.method]

    def form_schema(self, op: Operation) -> dict[str, Any]:
        content = self.operation(op)["requestBody"]["content"]
        return content["application/x-www-form-urlencoded"]["schema"]

    def conditional_groups(self, op: Operation) -> list[list[str]]:
        """`x-twilio.conditional` as form field names: at least one per group."""
        by_snake = {_camel_to_snake(name): name for name in self.form_schema(op)["properties"]}
        groups = self.operation(op).get("x-twilio", {}).get("conditional", [])
        return [[by_snake[snake] for snake in group] for group in groups]

    def response_example(self, op: Operation) -> dict[str, Any]:
        content = self.operation(op)["responses"][str(op.success_status)]["content"]
        return copy.deepcopy(content["application/json"]["examples"][op.example]["value"])

    def request_errors(self, op: Operation, path: str, body: bytes, content_type: str,
                       query: ImmutableMultiDict[str, str] | None = None) -> list[str]:
        """Everything wrong with a request per the spec; [] when it is valid."""
        request = _OpenAPIRequest(
            path=path,
            method=op.method,
            body=body,
            content_type=content_type,
            headers={"Authorization": "Basic checked-by-fake"},  # auth is checked separately
            query=query or ImmutableMultiDict(),
        )
        shape = self._shape(op, path, body, content_type, query)
        with self._lock:
            errors = self._verdicts.get(shape) if shape is not None else None
            if errors is None:
                result = self.openapi.unmarshal_request(request)
                errors = [line for error in result.errors for line in _format_openapi_error(error)]
                if shape is not None and len(self._verdicts) < 10_000:
                    self._verdicts[shape] = errors
            errors = list(errors)
        if op.method == "get":  # no form to check; a query parameter the operation does not have is a typo
            known = {p["name"] for p in self.operation(op).get("parameters", []) if p.get("in") == "query"}
            return errors + [f"{name}: unknown query parameter (not in {op.operation_id})"
                             for name in (query or {}) if name not in known]
        form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        return (errors + self._conditional_errors(op, form) + self._unknown_field_errors(op, form)
                + (_message_channel_errors(form) if op.operation_id == "CreateMessage" else []))

    def _shape(self, op: Operation, path: str, body: bytes, content_type: str,
               query: ImmutableMultiDict[str, str] | None) -> tuple[Any, ...] | None:
        """What the spec's verdict on a request depends on: every value, except those of fields the spec
        lets be any string at all (Body, To and From as phone-number...), which count only by being there.
        None: not worth remembering (a request that is not a form or a query)."""
        if op.method == "get":
            fields: dict[str, list[str]] = (query or ImmutableMultiDict()).to_dict(flat=False)
        elif content_type.split(";")[0].strip() == "application/x-www-form-urlencoded":
            fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        else:
            return None
        free = self._free_fields(op)
        return (op.operation_id, path, content_type, tuple(sorted(
            (name, len(values) if name in free else tuple(values)) for name, values in fields.items())))

    def _free_fields(self, op: Operation) -> frozenset[str]:
        """The operation's fields whose schema is a plain string (or a phone-number): any value passes."""
        found = self._free.get(op.operation_id)
        if found is None:
            if op.method == "get":
                schemas = {p["name"]: p.get("schema", {}) for p in self.operation(op).get("parameters", [])
                           if p.get("in") == "query"}
            else:
                schemas = self.form_schema(op)["properties"]
            found = self._free[op.operation_id] = frozenset(
                name for name, schema in schemas.items()
                if schema.get("type") == "string" and set(schema) <= {"type", "description", "x-twilio", "format"}
                and schema.get("format") in (None, "phone-number"))
        return found

    def response_errors(self, op: Operation, path: str, status: int, body: bytes) -> list[str]:
        """Check a response body the fake produced against the spec."""
        request = _OpenAPIRequest(path=path, method=op.method, body=None, content_type="", headers={})
        with self._lock:
            result = self.openapi.unmarshal_response(request, _OpenAPIResponse(status, body))
        return [line for error in result.errors for line in _format_openapi_error(error)]

    def _conditional_errors(self, op: Operation, form: dict[str, list[str]]) -> list[str]:
        errors = []
        for group in self.conditional_groups(op):
            # A blank value counts as missing: Twilio rejects e.g. Body="" too.
            if not any(any(v.strip() for v in form.get(name, [])) for name in group):
                errors.append(f"one of {', '.join(group)} is required (x-twilio.conditional)")
        return errors

    def _unknown_field_errors(self, op: Operation, form: dict[str, list[str]]) -> list[str]:
        # Real Twilio ignores unknown fields, so a typo such as "StatusCallBack"
        # would silently lose data in production; flag it here instead.
        known = self.form_schema(op)["properties"]
        return [f"{name}: unknown parameter (not in {op.operation_id} schema)" for name in form if name not in known]


_SPEC_CACHE: dict[Path, TwilioSpec] = {}
_SPEC_CACHE_LOCK = threading.Lock()


def _yaml_loader() -> type[yaml.SafeLoader]:
    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml is ~10x faster


def load_spec(path: Path | None = None) -> TwilioSpec:
    """Parse and prepare the spec once per process (about 1 s with libyaml)."""
    source = (path or default_spec_path()).resolve()
    with _SPEC_CACHE_LOCK:
        cached = _SPEC_CACHE.get(source)
        if cached is not None:
            return cached
        if not source.is_file():
            raise FileNotFoundError(f"Twilio OpenAPI spec not found at {source}; set ${SPEC_ENV_VAR} to its path")
        started = time.perf_counter()
        with source.open("rb") as handle:
            full = yaml.load(handle, Loader=_yaml_loader())
        spec = TwilioSpec(source, _extract_subset(full), 0.0)
        spec.load_seconds = time.perf_counter() - started
        _SPEC_CACHE[source] = spec
        return spec


# --------------------------------------------------------------------------
# Response bodies and errors
# --------------------------------------------------------------------------


def new_sid(prefix: str) -> str:
    """A Twilio-style SID: two-letter prefix + 32 lowercase hex chars."""
    return prefix + uuid.uuid4().hex


def _rfc2822_now() -> str:
    return email.utils.format_datetime(datetime.now(UTC).replace(microsecond=0))


def twilio_error_body(status: int, code: int, message: str) -> dict[str, Any]:
    """Twilio's legacy error shape, which twilio-python maps to TwilioRestException."""
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def _replace_strings(node: Any, replacements: dict[str, str]) -> Any:
    """Swap the example's placeholder SIDs (ACaaa..., SMaaa...) in every string."""
    if isinstance(node, str):
        for old, new in replacements.items():
            node = node.replace(old, new)
        return node
    if isinstance(node, dict):
        return {key: _replace_strings(value, replacements) for key, value in node.items()}
    if isinstance(node, list):
        return [_replace_strings(value, replacements) for value in node]
    return node


def _from_template(spec: TwilioSpec, op: Operation, sids: dict[str, str], fields: dict[str, Any]) -> dict[str, Any]:
    """Spec example for `op`, with real SIDs substituted and `fields` overriding."""
    template = spec.response_example(op)
    placeholders = {prefix + "a" * 32: sid for prefix, sid in sids.items()}
    body = _replace_strings(template, placeholders)
    body.update(fields)
    return body


def channel_of(address: str | None) -> tuple[str, str]:
    """('whatsapp', '+1555...') for 'whatsapp:+1555...'; ('sms', address) for a bare number."""
    prefix, colon, rest = (address or "").partition(":")
    return (prefix.lower(), rest) if colon else ("sms", address or "")


def _message_channel_errors(form: dict[str, list[str]]) -> list[str]:
    """CreateMessage's addresses and template fields, as the spec's descriptions of To, From and
    ContentVariables say (its schema has only `format: phone-number`, which validators ignore)."""
    errors = []
    channels = {}
    for name in ("To", "From"):
        value = _first(form, name)
        if value is None:
            continue
        channel, number = channel_of(value)
        if channel != "sms" and channel not in CHANNEL_PREFIXES:
            errors.append(f"{name}: unknown channel {channel!r} in {value!r}")
        elif not E164.match(number):
            errors.append(f"{name}: {value!r} is not E.164 or a channel address such as whatsapp:+15552229999")
        channels[name] = channel
    if "To" in channels and "From" in channels and channels["To"] != channels["From"]:
        errors.append(f"To ({channels['To']}) and From ({channels['From']}) must be on the same channel (21910)")
    variables = _first(form, "ContentVariables")
    if variables is not None:
        if not _first(form, "ContentSid"):
            errors.append("ContentVariables: content_sid must also be provided")
        try:
            parsed = json.loads(variables)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict) or not all(isinstance(v, str) for v in parsed.values()):
            errors.append("ContentVariables: must be a JSON object of strings, e.g. {\"1\": \"Clinic\"}")
    return errors


def _first(form: dict[str, list[str]], name: str) -> str | None:
    values = form.get(name)
    return values[0] if values else None


def _flatten_form(form: dict[str, list[str]]) -> dict[str, str | list[str]]:
    """Single values as str, repeated fields (MediaUrl, StatusCallbackEvent) as lists."""
    return {key: values[0] if len(values) == 1 else list(values) for key, values in form.items()}


# --------------------------------------------------------------------------
# Fault injection
# --------------------------------------------------------------------------


@dataclass
class _Failure:
    status: int
    code: int
    message: str
    operation_id: str | None


@dataclass
class _Delay:
    seconds: float
    operation_id: str | None


@dataclass
class _Media:
    message_sid: str
    content_type: str
    content: bytes
    cdn_token: str


def _pop_matching(queue: list[Any], operation_id: str) -> Any | None:
    for index, item in enumerate(queue):
        if item.operation_id in (None, operation_id):
            return queue.pop(index)
    return None


class _QuietHandler(WSGIRequestHandler):
    def log(self, kind: str, message: str, *args: Any) -> None:
        """Keep werkzeug's per-request access log out of test output."""


# --------------------------------------------------------------------------
# The fake server
# --------------------------------------------------------------------------


class TwilioFake:
    """A Twilio REST API stand-in on 127.0.0.1, validating against the spec."""

    def __init__(self, account_sid: str, auth_token: str, spec: TwilioSpec | None = None) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.spec = spec or load_spec()
        self._cond = threading.Condition()
        self._messages: list[dict[str, Any]] = []
        self._calls: list[dict[str, Any]] = []
        self._call_updates: list[dict[str, Any]] = []
        self._rejected: list[dict[str, Any]] = []
        self._violations: list[str] = []
        self._failures: list[_Failure] = []
        self._delays: list[_Delay] = []
        self._holds: list[_Delay] = []
        self._holding = 0
        self._released = threading.Event()
        self._lists: list[dict[str, Any]] = []
        self._media: dict[str, _Media] = {}
        self._media_fetches: list[dict[str, Any]] = []
        self._stopping = threading.Event()
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._url_map = Map(
            [
                Rule(
                    _to_werkzeug_rule(op.path),
                    endpoint=op.operation_id,
                    methods=[op.method.upper()],
                )
                for op in OPERATIONS
            ]
        )

    # ----- lifecycle ------------------------------------------------------

    def start(self) -> Self:
        if self._server is not None:
            raise RuntimeError("TwilioFake already started")
        self._stopping.clear()
        self._server = make_server("127.0.0.1", 0, self._wsgi_app, threaded=True, request_handler=_QuietHandler)
        # A short poll interval keeps stop() (and so per-test teardown) fast.
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()  # wakes requests sleeping in delay_next
        self._released.set()  # and those held by hold_next
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("TwilioFake is not running; call start() first")
        return f"http://127.0.0.1:{self._server.server_port}"

    def client(self, **client_kwargs: Any) -> Client:
        """A real twilio.rest.Client aimed at this fake (kwargs go to Client)."""
        client = Client(self.account_sid, self.auth_token, **client_kwargs)
        client.edge = None  # edge/region would rewrite the 127.0.0.1 host name
        client.region = None
        client.api.base_url = self.base_url
        return client

    # ----- recorded traffic (copies, safe to read from any thread) --------

    @property
    def messages(self) -> list[dict[str, Any]]:
        with self._cond:
            return list(self._messages)

    @property
    def calls(self) -> list[dict[str, Any]]:
        with self._cond:
            return list(self._calls)

    @property
    def call_updates(self) -> list[dict[str, Any]]:
        with self._cond:
            return list(self._call_updates)

    @property
    def lists(self) -> list[dict[str, Any]]:
        """Each ListMessage / ListCall answered: {"operation", "query", "response"}."""
        with self._cond:
            return list(self._lists)

    @property
    def rejected(self) -> list[dict[str, Any]]:
        with self._cond:
            return list(self._rejected)

    @property
    def violations(self) -> list[str]:
        with self._cond:
            return list(self._violations)

    @property
    def media_fetches(self) -> list[dict[str, Any]]:
        """Each GET of a media item: {"sid", "via": "api" | "cdn" | "json", "authorized", "status"}."""
        with self._cond:
            return list(self._media_fetches)

    # ----- media (MMS) -------------------------------------------------------

    def add_media(self, content: bytes, content_type: str, message_sid: str | None = None) -> str:
        """A photo a patient sent: the MediaUrl<n> Twilio would put in the incoming-message webhook."""
        message_sid = message_sid or new_sid("MM")
        sid = new_sid("ME")
        with self._cond:
            self._media[sid] = _Media(message_sid, content_type, content, uuid.uuid4().hex)
        return f"{self.base_url}/2010-04-01/Accounts/{self.account_sid}/Messages/{message_sid}/Media/{sid}"

    def reset(self) -> None:
        """Forget recorded traffic and pending faults."""
        with self._cond:
            for store in (
                self._messages,
                self._calls,
                self._call_updates,
                self._rejected,
                self._violations,
                self._media_fetches,
            ):
                store.clear()
            self._failures.clear()
            self._delays.clear()
            self._holds.clear()
            self._lists.clear()
        self._released.set()

    def wait_for(self, predicate_or_count: Callable[[], bool] | int, timeout: float = 5.0) -> None:
        """Block until the predicate holds (an int N means: N messages recorded).

        Raises TimeoutError (with a summary) rather than returning False, so a
        forgotten `assert` cannot turn a test into one that never fails.
        """
        predicate = predicate_or_count if callable(predicate_or_count) else self._has_messages(predicate_or_count)
        with self._cond:
            if self._cond.wait_for(predicate, timeout=timeout):
                return
            summary = (
                f"messages={len(self._messages)} calls={len(self._calls)} "
                f"rejected={len(self._rejected)} violations={self._violations}"
            )
        raise TimeoutError(f"TwilioFake.wait_for timed out after {timeout}s ({summary})")

    def _has_messages(self, count: int) -> Callable[[], bool]:
        def predicate() -> bool:
            return len(self._messages) >= count  # called with self._cond held

        return predicate

    # ----- fault injection -------------------------------------------------

    def error_next(
        self,
        n: int = 1,
        code: int = 21610,
        status: int = 400,
        message: str | None = None,
        operation: str | None = None,
    ) -> None:
        """Answer the next n valid requests (optionally only `operation`, e.g.
        "CreateMessage") with a Twilio error carrying `code`."""
        text = message or KNOWN_ERROR_MESSAGES.get(code, f"Twilio error {code}")
        with self._cond:
            self._failures.extend(_Failure(status, code, text, operation) for _ in range(n))

    def fail_next(
        self,
        n: int = 1,
        status: int = 500,
        code: int | None = None,
        operation: str | None = None,
    ) -> None:
        """Answer the next n valid requests with an HTTP failure (500, 503, 429...)."""
        default_code = TOO_MANY_REQUESTS_CODE if status == 429 else INTERNAL_ERROR_CODE
        self.error_next(n, code=code or default_code, status=status, operation=operation)

    def delay_next(self, n: int, seconds: float, operation: str | None = None) -> None:
        """Sleep `seconds` before answering the next n valid requests."""
        with self._cond:
            self._delays.extend(_Delay(seconds, operation) for _ in range(n))

    def hold_next(self, n: int = 1, operation: str | None = None) -> None:
        """Carry out the next n valid requests (a message is accepted and recorded at once) but hold each
        answer back until `release()` (or stop): the client's process may die before it hears Twilio's
        answer. `holding` counts the answers held now."""
        with self._cond:
            self._released.clear()
            self._holds.extend(_Delay(0, operation) for _ in range(n))

    def release(self) -> None:
        """Send every held answer (to whoever still listens)."""
        self._released.set()

    @property
    def holding(self) -> int:
        with self._cond:
            return self._holding

    # ----- request handling --------------------------------------------------

    def _wsgi_app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        response = self._handle(Request(environ))
        return response(environ, start_response)

    def _handle(self, request: Request) -> Response:
        if request.path.startswith(CDN_PREFIX):
            return self._media_from_cdn(request)
        content = MEDIA_CONTENT.fullmatch(request.path)
        if content is not None and request.method == "GET":
            return self._media_content(request, *content.groups())
        try:
            operation_id, path_args = self._url_map.bind_to_environ(request.environ).match()
        except MethodNotAllowed:
            return self._reject(
                request,
                None,
                "method",
                405,
                METHOD_NOT_ALLOWED_CODE,
                f"Method {request.method} not allowed",
            )
        except NotFound:
            return self._reject(
                request,
                None,
                "not_found",
                404,
                NOT_FOUND_CODE,
                f"The requested resource {request.path} was not found",
            )
        op = OPERATIONS_BY_ID[operation_id]
        body = request.get_data(cache=True)
        # A list's filters come in the query; they are checked and recorded as a form's fields are.
        form = request.args.to_dict(flat=False) if op.method == "get" else \
            parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        auth = request.authorization
        if auth is None or auth.username != self.account_sid or auth.password != self.auth_token:
            return self._reject(request, op, "auth", 401, AUTH_ERROR_CODE, "Authenticate", form)
        if path_args["AccountSid"] != self.account_sid:
            # Twilio answers 404 when the path names another account.
            return self._reject(
                request,
                op,
                "not_found",
                404,
                NOT_FOUND_CODE,
                f"The requested resource {request.path} was not found",
                form,
            )
        errors = self.spec.request_errors(op, request.path, body, request.content_type or "", request.args)
        if errors:
            return self._reject(
                request,
                op,
                "validation",
                400,
                VALIDATION_ERROR_CODE,
                "; ".join(errors),
                form,
            )
        return self._answer_valid(request, op, path_args, form)

    def _answer_valid(
        self,
        request: Request,
        op: Operation,
        path_args: dict[str, str],
        form: dict[str, list[str]],
    ) -> Response:
        with self._cond:
            delay = _pop_matching(self._delays, op.operation_id)
            failure = _pop_matching(self._failures, op.operation_id)
            hold = _pop_matching(self._holds, op.operation_id)
        if delay is not None and self._stopping.wait(delay.seconds):
            return _json_response(503, twilio_error_body(503, INTERNAL_ERROR_CODE, "fake stopping"))
        if failure is not None:
            return self._reject(
                request,
                op,
                "fault",
                failure.status,
                failure.code,
                failure.message,
                form,
            )
        builders = {
            "CreateMessage": self._create_message,
            "ListMessage": self._list_messages,
            "CreateCall": self._create_call,
            "ListCall": self._list_calls,
            "UpdateCall": self._update_call,
            "FetchMedia": self._fetch_media,
        }
        try:
            answer = builders[op.operation_id](form, path_args)
        except _BadRequest as error:
            return self._reject(request, op, "validation", 400, VALIDATION_ERROR_CODE, str(error), form)
        if hold is not None:  # done (a message is accepted and recorded), but the answer waits
            with self._cond:
                self._holding += 1
                self._cond.notify_all()
            self._released.wait()
            with self._cond:
                self._holding -= 1
        return _json_response(op.success_status, answer)

    def _reject(
        self,
        request: Request,
        op: Operation | None,
        reason: str,
        status: int,
        code: int,
        message: str,
        form: dict[str, list[str]] | None = None,
    ) -> Response:
        record = {
            "operation": op.operation_id if op else None,
            "method": request.method,
            "path": request.path,
            "reason": reason,
            "status": status,
            "code": code,
            "message": message,
            "form": _flatten_form(form or {}),
        }
        with self._cond:
            self._rejected.append(record)
            if reason != "fault":  # injected faults are the test's doing, not the caller's
                label = op.operation_id if op else "unknown endpoint"
                self._violations.append(f"{label} {request.method} {request.path} -> {status}: {message}")
            self._cond.notify_all()
        return _json_response(status, twilio_error_body(status, code, message))

    def _record(self, store: list[dict[str, Any]], record: dict[str, Any]) -> None:
        with self._cond:
            store.append(record)
            self._cond.notify_all()

    def _create_message(self, form: dict[str, list[str]], _: dict[str, str]) -> dict[str, Any]:
        sid = new_sid("SM")
        created = datetime.now(UTC).replace(microsecond=0)
        now = email.utils.format_datetime(created)
        body = _from_template(
            self.spec,
            OPERATIONS_BY_ID["CreateMessage"],
            {"AC": self.account_sid, "SM": sid},
            {
                "body": _first(form, "Body") or "",
                "to": _first(form, "To"),
                "from": _first(form, "From"),  # null when only MessagingServiceSid is given
                "messaging_service_sid": _first(form, "MessagingServiceSid"),
                "status": "queued",
                "num_media": str(len(form.get("MediaUrl", []))),
                "date_created": now,
                "date_updated": now,
                "date_sent": None,
                "price": None,
                "error_code": None,
                "error_message": None,
            },
        )
        self._record(
            self._messages,
            {
                "sid": sid,
                "to": body["to"],
                "from_": body["from"],
                "body": _first(form, "Body"),
                "status_callback": _first(form, "StatusCallback"),
                "messaging_service_sid": body["messaging_service_sid"],
                "media_url": form.get("MediaUrl", []),
                "channel": channel_of(body["to"])[0],
                "content_sid": _first(form, "ContentSid"),
                "content_variables": json.loads(_first(form, "ContentVariables") or "null"),
                "form": _flatten_form(form),
                "response": body,
                "created": created,
            },
        )
        return body

    def _create_call(self, form: dict[str, list[str]], _: dict[str, str]) -> dict[str, Any]:
        sid = new_sid("CA")
        created = datetime.now(UTC).replace(microsecond=0)
        now = email.utils.format_datetime(created)
        to, from_ = _first(form, "To"), _first(form, "From")
        body = _from_template(
            self.spec,
            OPERATIONS_BY_ID["CreateCall"],
            {"AC": self.account_sid, "CA": sid},
            {
                "to": to,
                "to_formatted": to,
                "from": from_,
                "from_formatted": from_,
                "status": "queued",
                "direction": "outbound-api",
                "date_created": now,
                "date_updated": now,
                "start_time": None,
                "end_time": None,
                "duration": None,
                "price": None,
                "answered_by": None,
                "forwarded_from": None,
                "phone_number_sid": None,
                "queue_time": "0",
            },
        )
        self._record(
            self._calls,
            {
                "sid": sid,
                "to": to,
                "from_": from_,
                "url": _first(form, "Url"),
                "twiml": _first(form, "Twiml"),
                "status_callback": _first(form, "StatusCallback"),
                "form": _flatten_form(form),
                "response": body,
                "created": created,
            },
        )
        return body

    def _list_messages(self, query: dict[str, list[str]], path_args: dict[str, str]) -> dict[str, Any]:
        """ListMessage: To, From and DateSent (=, <, >: a day, or a moment) filter; newest first."""
        with self._cond:
            records = list(self._messages)
        tests = [_equals(query, "To", "to"), _equals(query, "From", "from"),
                 *(_dated(query, name, "date_sent") for name in ("DateSent", "DateSent<", "DateSent>"))]
        return self._page("ListMessage", "messages", records, tests, query, path_args)

    def _list_calls(self, query: dict[str, list[str]], path_args: dict[str, str]) -> dict[str, Any]:
        """ListCall: To, From, ParentCallSid, Status, StartTime and EndTime (=, <, >) filter; newest first."""
        with self._cond:
            records = list(self._calls)
        tests = [_equals(query, "To", "to"), _equals(query, "From", "from"),
                 _equals(query, "ParentCallSid", "parent_call_sid"), _equals(query, "Status", "status"),
                 *(_dated(query, name + suffix, field) for name, field in (("StartTime", "start_time"),
                                                                          ("EndTime", "end_time"))
                   for suffix in ("", "<", ">"))]
        return self._page("ListCall", "calls", records, tests, query, path_args)

    def _page(self, operation_id: str, key: str, records: list[dict[str, Any]],
              tests: list[Callable[[dict[str, Any]], bool]], query: dict[str, list[str]],
              path_args: dict[str, str]) -> dict[str, Any]:
        """One page of a list, shaped as the spec's ListMessageResponse / ListCallResponse: PageSize (default
        50), Page and PageToken (the fake's tokens hold the offset), and the uris to the pages around it."""
        found = [r["response"] for r in sorted(reversed(records), key=lambda r: r["created"], reverse=True)
                 if all(test(r["response"]) for test in tests)]
        size, page = int(_first(query, "PageSize") or 50), int(_first(query, "Page") or 0)
        token = _first(query, "PageToken")
        if token is not None and not re.fullmatch(r"PA\d+", token):
            raise _BadRequest(f"PageToken: {token!r} is not a token this list gave out")
        start = int(token[2:]) if token else page * size
        items = found[start:start + size]
        path = OPERATIONS_BY_ID[operation_id].path.format(**path_args)
        filters = [(name, value) for name, values in query.items() if name not in PAGING for value in values]

        def uri(at_page: int, offset: int | None) -> str:
            paging = [("PageSize", str(size)), ("Page", str(at_page))]
            if offset is not None:
                paging.append(("PageToken", f"PA{offset}"))
            return f"{path}?{urlencode(filters + paging)}"

        body = {
            key: items, "start": start, "end": start + max(len(items) - 1, 0), "page": page, "page_size": size,
            "uri": uri(page, start if token else None), "first_page_uri": uri(0, None),
            "next_page_uri": uri(page + 1, start + size) if start + size < len(found) else None,
            "previous_page_uri": uri(page - 1, max(start - size, 0)) if start > 0 else None,
        }
        with self._cond:
            self._lists.append({"operation": operation_id, "query": _flatten_form(query), "response": body})
        return body

    def _update_call(self, form: dict[str, list[str]], path_args: dict[str, str]) -> dict[str, Any]:
        sid = path_args["Sid"]
        known = next((call["response"] for call in self.calls if call["sid"] == sid), None)
        # Calls not created through the fake (e.g. inbound) are still accepted.
        fields: dict[str, Any] = {
            key: (known or {}).get(key) for key in ("to", "to_formatted", "from", "from_formatted", "direction")
        }
        fields.update(
            status=_first(form, "Status") or (known or {}).get("status", "in-progress"),
            date_updated=_rfc2822_now(),
        )
        body = _from_template(
            self.spec,
            OPERATIONS_BY_ID["UpdateCall"],
            {"AC": self.account_sid, "CA": sid},
            fields,
        )
        self._record(
            self._call_updates,
            {
                "sid": sid,
                "status": _first(form, "Status"),
                "url": _first(form, "Url"),
                "twiml": _first(form, "Twiml"),
                "form": _flatten_form(form),
                "response": body,
            },
        )
        return body

    def _fetch_media(self, _: dict[str, list[str]], path_args: dict[str, str]) -> dict[str, Any]:
        """FetchMedia (<MediaUrl>.json): the item's metadata, shaped as the spec's example."""
        sid, message_sid = path_args["Sid"], path_args["MessageSid"]
        item = self._media.get(sid)
        body = _from_template(self.spec, OPERATIONS_BY_ID["FetchMedia"],
                              {"AC": self.account_sid, "SM": message_sid, "ME": sid},
                              {"content_type": item.content_type if item else None,
                               "date_created": _rfc2822_now(), "date_updated": _rfc2822_now()})
        with self._cond:
            self._media_fetches.append({"sid": sid, "message_sid": message_sid, "via": "json", "authorized": True,
                                        "status": 200, "response": body})
        return body

    def _media_content(self, request: Request, account_sid: str, message_sid: str, sid: str) -> Response:
        """GET MediaUrl: the account's credentials, then a 307 to the CDN (Twilio's own answer)."""
        op = OPERATIONS_BY_ID["FetchMedia"]
        errors = self.spec.request_errors(op, request.path + ".json", b"", "")  # the SIDs' patterns
        if errors:
            return self._reject(request, op, "validation", 400, VALIDATION_ERROR_CODE, "; ".join(errors))
        auth = request.authorization
        authorized = auth is not None and auth.username == self.account_sid and auth.password == self.auth_token
        item = self._media.get(sid)
        status = 401 if not authorized else 404 if item is None or item.message_sid != message_sid \
            or account_sid != self.account_sid else 307
        _media_fetched(self, sid, "api", authorized, status)
        if status == 401:  # HTTP auth on media: not a violation, what Twilio answers a stranger
            return _json_response(401, twilio_error_body(401, AUTH_ERROR_CODE, "Authenticate"))
        if status == 404:
            return _json_response(404, twilio_error_body(404, NOT_FOUND_CODE, f"{request.path} was not found"))
        assert item is not None
        response = Response(status=307)
        # Another host name, as Twilio's CDN is: a client must not carry the credentials there.
        cdn = self.base_url.replace("127.0.0.1", "localhost")
        response.headers["Location"] = f"{cdn}{CDN_PREFIX}{item.cdn_token}"
        return response

    def _media_from_cdn(self, request: Request) -> Response:
        token = request.path[len(CDN_PREFIX):]
        with self._cond:
            found = next(((sid, m) for sid, m in self._media.items() if m.cdn_token == token), None)
        if found is None:
            return Response(status=404)
        sid, item = found
        _media_fetched(self, sid, "cdn", request.authorization is not None, 200)
        return Response(item.content, status=200, mimetype=item.content_type)


def _media_fetched(fake: TwilioFake, sid: str, via: str, authorized: bool, status: int) -> None:
    with fake._cond:
        fake._media_fetches.append({"sid": sid, "via": via, "authorized": authorized, "status": status})
        fake._cond.notify_all()


PAGING = ("PageSize", "Page", "PageToken")


class _BadRequest(Exception):
    """A request the spec's schema allows but Twilio would refuse (400)."""


def _equals(query: dict[str, list[str]], name: str, field_name: str) -> Callable[[dict[str, Any]], bool]:
    wanted = _first(query, name)
    return lambda resource: wanted is None or resource.get(field_name) == wanted


def _dated(query: dict[str, list[str]], name: str, field_name: str) -> Callable[[dict[str, Any]], bool]:
    """A DateSent-style filter: `name` ends in < (on or before), > (on or after) or neither (on). A bare day
    compares days; a moment compares moments. A resource without the date (a message not sent yet) never
    matches."""
    value = _first(query, name)
    if value is None:
        return lambda resource: True
    wanted = _parse_when(name, value)
    relation = name[-1] if name[-1] in "<>" else "="

    def test(resource: dict[str, Any]) -> bool:
        if not resource.get(field_name):
            return False
        at = email.utils.parsedate_to_datetime(resource[field_name])
        have: datetime | date = at if isinstance(wanted, datetime) else at.date()
        return {"<": have <= wanted, ">": have >= wanted, "=": have == wanted}[relation]  # type: ignore[operator]

    return test


def _parse_when(name: str, value: str) -> datetime | date:
    """The formats the spec's examples use: YYYY-MM-DD, ISO 8601 (what twilio-python sends), RFC 2822."""
    try:
        return date.fromisoformat(value) if len(value) == 10 else \
            datetime.fromisoformat(value).astimezone(UTC)
    except ValueError:
        pass
    try:
        return email.utils.parsedate_to_datetime(value).astimezone(UTC)
    except (TypeError, ValueError):
        raise _BadRequest(f"{name}: {value!r} is not a date") from None


def _to_werkzeug_rule(openapi_path: str) -> str:
    return re.sub(r"\{(\w+)\}", r"<\1>", openapi_path)


def _json_response(status: int, body: dict[str, Any]) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


# Registered under the name `twilio_fake`; the function has another name so a
# test module can import it without ruff flagging parameters as redefinitions.
@pytest.fixture(name="twilio_fake")
def twilio_fake_fixture() -> Iterator[TwilioFake]:
    """A running TwilioFake per test (fresh account SID, token "test-token")."""
    with TwilioFake(account_sid=new_sid("AC"), auth_token=TEST_AUTH_TOKEN) as fake:
        yield fake
