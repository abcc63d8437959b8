"""A long text's red-flag scan runs before the webhook's transaction (runtime/sms.py, redflags.read_ahead):
on SQLite the transaction holds the file's one writer, which every other webhook waits for, and a long
text's scan takes several milliseconds. What the text escalates is the same."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select

from service.engine import redflags
from service.models import Escalation
from service.services import Services
from tests.conftest import Twilio, play

LONG = "hi, my back went out lifting a box and now my bottom has been numb since yesterday, i didnt want to say"


class Scans:
    """Each red-flag scan of a whole text, and whether a database transaction was open at the time."""

    def __init__(self, svc: Services, monkeypatch: pytest.MonkeyPatch) -> None:
        self.open = 0
        self.seen: list[tuple[str, bool]] = []
        event.listen(svc.engine, "begin", self._begin)
        event.listen(svc.engine, "commit", self._end)
        event.listen(svc.engine, "rollback", self._end)
        real = redflags._detect

        def scan(flow, text, likely):  # type: ignore[no-untyped-def]
            self.seen.append((text, self.open > 0))
            return real(flow, text, likely)

        monkeypatch.setattr(redflags, "_detect", scan)

    def _begin(self, _connection: object) -> None:
        self.open += 1

    def _end(self, _connection: object) -> None:
        self.open = max(0, self.open - 1)


def test_a_long_first_text_is_scanned_outside_the_transaction(twilio: Twilio, svc: Services,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    scans = Scans(svc, monkeypatch)
    reply = play(twilio, LONG)[0]
    assert "911" in reply.text  # saddle numbness: the emergency department now, with the 911 line
    assert [inside for text, inside in scans.seen if text == LONG] == [False]  # once, before the transaction
    assert _cases(svc) == [["saddle_numbness"]]  # the nurse's case, as without the read-ahead


def test_a_long_late_text_is_scanned_outside_the_transaction(twilio: Twilio, svc: Services,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    play(twilio, "hi")
    scans = Scans(svc, monkeypatch)
    late = "no fever, but sorry one more thing, my bottom has actually been numb since yesterday"
    reply = play(twilio, late)[0]
    assert "911" in reply.text
    assert [inside for text, inside in scans.seen if text == late] == [False]
    assert _cases(svc) == [["saddle_numbness"]]


def _cases(svc: Services) -> list[list[str]]:
    with svc.factory() as session:
        return [list(case.red_flags) for case in session.scalars(select(Escalation))]
