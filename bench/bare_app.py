"""The baseline for bench/load.py: a bare Flask app answering every SMS webhook with one fixed TwiML reply.

    gunicorn -c gunicorn.conf.py "bench.bare_app:create_app()"

It reads the form (as any webhook handler must) and does nothing else (the voice callbacks, /twilio/voice
and /twilio/voice/answer, answer one fixed <Gather> the same way): no signature check, no
database, no flow. Run under the same gunicorn.conf.py and worker settings as the service, it is
the most a Flask + gunicorn process can do on this machine; the service's figure is read against it.
"""

from __future__ import annotations

from flask import Flask, Response, request
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse

FIXED_REPLY = "Thanks, we got your message. In an emergency, call 911."
VOICE_ANSWER = "/twilio/voice/answer"


def fixed_reply() -> str:
    reply = MessagingResponse()
    reply.message(FIXED_REPLY)
    return str(reply)


def fixed_voice_reply() -> str:
    """A question by keypad whose answer comes back to /twilio/voice/answer (and silence too): bench/load.py's
    callers follow it as they follow the service's."""
    reply = VoiceResponse()
    gather = reply.gather(input="dtmf speech", action=VOICE_ANSWER, method="POST", num_digits=1, timeout=6,
                          action_on_empty_result=True)
    gather.say(FIXED_REPLY + " If Yes, press 1. If No, press 2.", language="en-US")
    reply.redirect(VOICE_ANSWER, method="POST")
    return str(reply)


def with_healthz(app: Flask) -> Flask:
    """What bench/load.py polls to know the server is up."""

    @app.get("/healthz")
    def healthz() -> Response:
        return Response('{"status": "ok"}', status=200, mimetype="application/json")

    return app


def create_app() -> Flask:
    app = Flask(__name__)
    body, voice = fixed_reply(), fixed_voice_reply()

    @app.post("/twilio/sms")
    def incoming_sms() -> Response:
        request.form  # noqa: B018 - parse the body, as a real webhook handler does
        return Response(body, status=200, mimetype="application/xml")

    @app.post("/twilio/voice")
    @app.post(VOICE_ANSWER)
    def voice_callback() -> Response:
        request.form  # noqa: B018
        return Response(voice, status=200, mimetype="application/xml")

    return with_healthz(app)
