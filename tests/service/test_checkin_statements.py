"""How much database work a batch of check-ins costs: counted, not timed (bench/checkins.py has the timings).

With a million pending the clock keeps up only if reading a check-in's context costs nothing per row:
the batch is claimed in one statement and its patients' other check-ins, latest conversations and
scheduled texts are read once for the batch. A per-row read creeping back in is how the clock falls
behind without any test failing.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from service.checkins import sender
from service.models import Checkin
from service.services import Services
from tests.service.test_clock_exactly_once import seed
from tests.service.test_sms_statements import statements

DUE = 20  # one batch (sender.BATCH is 25)


def test_a_batch_of_checkins_reads_its_context_once(svc: Services, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    seed(svc, DUE)
    monkeypatch.setattr(svc.outbox, "deliver", lambda *_, **__: 0)  # the texts stay queued: the outbox is not counted
    with statements(svc) as seen:
        sent = sender.tick(svc)
    assert sent == DUE
    reads = Counter(table for statement in seen if statement.lstrip().upper().startswith("SELECT")
                    for table in ("checkins", "conversations", "messages")
                    if f"FROM {table}" in statement.replace('"', ""))
    # Due sweep: the claim (checkins JOIN patients), the patients' other check-ins, their latest
    # conversations, their scheduled texts; then the follow-up sweep's claim (nothing waiting yet).
    assert reads == {"checkins": 3, "conversations": 1, "messages": 1}
    with svc.factory() as session:
        assert session.scalar(select(func.count()).where(Checkin.status == "sent")) == DUE
