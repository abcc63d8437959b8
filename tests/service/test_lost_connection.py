"""Postgres drops a pooled connection (a restart, a failover, an idle timeout): the next text is still answered
as it should be and advances the conversation once. A connection in steady use is not pinged before each
webhook (service/db.py, _ping_when_idle): its failed statement invalidates the pool and the envelope runs the
text again on a new connection; a connection that sat idle is pinged first and replaced. Postgres only (a
SQLite file has no server to lose)."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import create_engine, func, select, text

from service import db
from service.models import Conversation, Message
from service.services import Services
from tests.conftest import Twilio, play
from tests.databases import postgres_url

pytestmark = pytest.mark.skipif(postgres_url() is None, reason="needs Postgres (DATABASE_URL)")


def _drop_the_pools_connections(svc: Services, warm: int = 1) -> None:
    """Open `warm` pooled connections at once, then terminate each one's backend from the server's side."""
    held = [svc.engine.connect() for _ in range(warm)]
    pids = [connection.execute(text("SELECT pg_backend_pid()")).scalar_one() for connection in held]
    for connection in held:
        connection.close()  # back to the pool, which now holds `warm` connections
    admin = create_engine(svc.engine.url)
    try:
        with admin.connect() as connection:
            for pid in pids:
                assert connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()
    finally:
        admin.dispose()


def _node_and_inbound(svc: Services, sid: str) -> tuple[str | None, int]:
    with svc.factory() as session:
        node = session.scalars(select(Conversation.node)).one()
        inbound = session.scalar(select(func.count()).select_from(Message).where(Message.twilio_sid == sid))
    return node, int(inbound or 0)


def test_connections_dropped_while_in_use_cost_the_text_nothing(twilio: Twilio, svc: Services,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    play(twilio, "hi")  # the welcome and the first question
    _drop_the_pools_connections(svc, warm=3)  # the retry must not meet the next dead one: the pool is renewed
    with caplog.at_level(logging.WARNING, logger="service.runtime.envelope"):
        reply = twilio.sms("no", sid="SM" + "d" * 32)
    assert reply.status == 200 and "lost control of your bladder" in reply.text  # q_faint answered, q_bladder asked
    assert _node_and_inbound(svc, "SM" + "d" * 32) == ("q_bladder", 1)  # advanced once, the text kept once
    assert "runtime.retry" in caplog.text  # not pinged (it was in use): the statement failed, the text ran again
    assert play(twilio, "no")[0].text.count("numbness around your groin") == 1  # and the line goes on


def test_an_idle_connection_is_pinged_and_replaced_before_use(twilio: Twilio, svc: Services,
                                                             monkeypatch: pytest.MonkeyPatch,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    play(twilio, "hi")
    _drop_the_pools_connections(svc)
    monkeypatch.setattr(db, "IDLE_PING_S", 0.0)  # every pooled connection counts as idle
    with caplog.at_level(logging.WARNING, logger="service.runtime.envelope"):
        reply = twilio.sms("no", sid="SM" + "e" * 32)
    assert reply.status == 200 and "lost control of your bladder" in reply.text
    assert _node_and_inbound(svc, "SM" + "e" * 32) == ("q_bladder", 1)
    assert "runtime.retry" not in caplog.text  # the ping found it gone: the text ran once, on a new connection
