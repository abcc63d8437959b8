"""The soak's short form (bench/soak.py, issue #22 item 5): about a minute of the whole deployment under load
(web processes under gunicorn, two clocks, texters with red flags, nurses ACKing by SMS, check-ins falling
due) while a random web or clock process is SIGKILLed every 8 s and restarted, Twilio retrying every webhook
that failed (same MessageSid and I-Twilio-Idempotency-Token). Afterwards, from the database and the Twilio
fake: nothing lost and nothing twice (a send cut by a kill after Twilio took it is reconciled against
Twilio's message list, not sent again: service/outbox/outbound.py). The figures are the script's; this
only asserts its verdict, and that the run really had the faults and the traffic the verdict is about.

On Postgres (DATABASE_URL, as in CI's second run) and on SQLite alike: two web processes of one worker each
and two clocks, all on one database.
"""

from __future__ import annotations

import pytest

from bench.soak import Options, soak

pytestmark = pytest.mark.slow


def test_a_minute_of_texting_with_a_process_killed_every_8_s_loses_nothing_and_does_nothing_twice() -> None:
    options = Options(duration=40, kill_every=8, texters=30, think=1.5, webs=2, workers=1, clocks=2,
                      ack_timeout=10, checkin_rate=1.0, drain=40)
    report = soak(options, say=lambda *_: None)
    table = report.table()
    assert report.problems == [], table
    done = report.counts
    assert done["kills"] >= 2, table  # 8 s apart, each restart waited for: a slow machine fits fewer in
    assert done["webhooks"] > 150 and done["conversations_checked"] > 30, table
    assert done["red_flags"] >= 3 and done["paged"] == done["red_flags"], table
    assert done["acknowledged"] >= 1 and done["repaged"] >= 1, table  # an ACK comes after a re-page or two
    assert done["checkins_due"] >= 20 and done["checkins_out"] == done["checkins_due"], table
