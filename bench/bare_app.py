"""The baseline for bench/load.py: a bare Flask app answering every SMS webhook with one fixed TwiML reply.

    gunicorn -c gunicorn.conf.py "bench.bare_app:create_app()"

It reads the form (as any webhook handler must) and does nothing else: no signature check, no
database, no flow. Run under the same gunicorn.conf.py and worker settings as the service, it is
the most a Flask + gunicorn process can do on this machine; the service's figure is read against it.
"""

from __future__ import annotations

from flask import Flask, Response, request
from twilio.twiml.messaging_response import MessagingResponse

FIXED_REPLY = "Thanks, we got your message. In an emergency, call 911."


def fixed_reply() -> str:
    reply = MessagingResponse()
    reply.message(FIXED_REPLY)
    return str(reply)


def with_healthz(app: Flask) -> Flask:
    """What bench/load.py polls to know the server is up."""

    @app.get("/healthz")
    def healthz() -> Response:
        return Response('{"status": "ok"}', status=200, mimetype="application/json")

    return app


def create_app() -> Flask:
    app = Flask(__name__)
    body = fixed_reply()

    @app.post("/twilio/sms")
    def incoming_sms() -> Response:
        request.form  # noqa: B018 - parse the body, as a real webhook handler does
        return Response(body, status=200, mimetype="application/xml")

    return with_healthz(app)
