"""A lower bound for bench/load.py: the least any correct SMS webhook must do, and nothing more.

    gunicorn -c gunicorn.conf.py "bench.floor_app:create_app()"

Beyond the bare app (bench/bare_app.py) it checks the Twilio signature (a webhook must refuse what
Twilio did not sign) and durably records the message before answering (a reply must not go out for
a text that a crash could then lose): one INSERT and a commit in a SQLite file in WAL mode with full
fsync, through the standard library's sqlite3 with a connection per thread (no ORM, no pool, no
flow). A voice callback (/twilio/voice, /twilio/voice/answer) is the same: the signature, one INSERT of the
CallSid and keys pressed and the commit, then one fixed <Gather>. Whatever the service does, it cannot be
faster than this on the same machine.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import threading
from pathlib import Path

from flask import Flask, Response, abort, request
from twilio.request_validator import RequestValidator

from bench.bare_app import VOICE_ANSWER, fixed_reply, fixed_voice_reply, with_healthz


def create_app() -> Flask:
    app = Flask(__name__)
    body, voice = fixed_reply(), fixed_voice_reply()
    validator = RequestValidator(os.environ.get("TWILIO_AUTH_TOKEN", ""))
    base_url = os.environ.get("PUBLIC_BASE_URL", "")
    path = Path(os.environ.get("FLOOR_DATABASE") or Path(tempfile.mkdtemp(prefix="floor-")) / "floor.sqlite3")
    local = threading.local()

    def connection() -> sqlite3.Connection:
        if not hasattr(local, "db"):
            db = sqlite3.connect(path, isolation_level=None, timeout=15)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.execute("CREATE TABLE IF NOT EXISTS received (sid TEXT PRIMARY KEY, sender TEXT, body TEXT)")
            db.execute("CREATE TABLE IF NOT EXISTS callbacks (id INTEGER PRIMARY KEY, sid TEXT, digits TEXT)")
            local.db = db
        return local.db

    def check_signature() -> None:
        query = request.query_string.decode("latin-1")
        url = (base_url + request.path + (f"?{query}" if query else "")) if base_url else request.url
        if not validator.validate(url, request.form, request.headers.get("X-Twilio-Signature", "")):
            abort(403)

    @app.post("/twilio/voice")
    @app.post(VOICE_ANSWER)
    def voice_callback() -> Response:
        check_signature()
        db = connection()
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO callbacks (sid, digits) VALUES (?, ?)",
                   (request.form.get("CallSid"), request.form.get("Digits")))
        db.execute("COMMIT")
        return Response(voice, status=200, mimetype="application/xml")

    @app.post("/twilio/sms")
    def incoming_sms() -> Response:
        check_signature()
        db = connection()
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT OR IGNORE INTO received VALUES (?, ?, ?)",
                   (request.form.get("MessageSid"), request.form.get("From"), request.form.get("Body")))
        db.execute("COMMIT")
        return Response(body, status=200, mimetype="application/xml")

    return with_healthz(app)
