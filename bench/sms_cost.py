"""What one text costs the service, counted, not timed under load: a script that prints figures.

    python bench/sms_cost.py                          # scratch SQLite file, 40 conversations
    DATABASE_URL=postgresql://... python bench/sms_cost.py
    python bench/sms_cost.py --channel voice          # calls by keypad through the voice callbacks
    python bench/sms_cost.py --profile 25             # and the 25 costliest functions (cProfile, own time)
    python bench/sms_cost.py --opening "hi my back went into spasm lifting a box"   # a first text in words

One process, one thread, signed webhooks through Flask's test client (no gunicorn, no network, no other
request in the way), the service built as production builds it (DATA_KEY set, Twilio transport pointed at
an address that refuses connections: pages and relays are sent after the answer, so they cost the
webhook nothing). It plays whole benign conversations ("hi", twelve "no") or keypad calls and prints,
per webhook: CPU ms in all, CPU ms inside the database transaction (with SQLite, the part no other
webhook on the file can overlap: its throughput cannot pass 1 / that), SQL statements, and the commit's
wall time (the fsync). bench/load.py gives throughput and latency under load; this gives the cost that
load multiplies, steady enough to compare two commits on a busy machine.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import pstats
import re
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

from service import create_app  # noqa: E402
from service.db import scratch_schema  # noqa: E402
from service.privacy.keys import new_key  # noqa: E402
from service.settings import Settings  # noqa: E402

TOKEN = "cost-token"
CLINIC = "+12125550100"
BENIGN = ["hi", *["no"] * 12]
CALL = [None, None, *["2"] * 12, "2"]  # ring, let the language offer pass, twelve "no", no text offer
ACTION = re.compile(r'<Gather[^>]*?action="([^"]+)"')


class Meter:
    """Statements, CPU inside transactions and commit time, from the engine's own events."""

    def __init__(self, engine) -> None:  # type: ignore[no-untyped-def]
        self.statements = 0
        self.in_transaction = 0.0
        self.commit_wall = 0.0
        self._began: float | None = None
        self._commit_at = 0.0
        self._held_from = 0.0
        self.held_ms: list[float] = []  # each transaction's wall time, begin to the connection's return
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "begin", self._begin)
        event.listen(engine, "commit", self._commit)
        event.listen(engine.pool, "checkin", self._end)

    def _statement(self, *_: object) -> None:
        self.statements += 1

    def _begin(self, _connection: object) -> None:
        self._began = time.thread_time()
        self._held_from = time.perf_counter()

    def _commit(self, _connection: object) -> None:
        self._commit_at = time.perf_counter()

    def _end(self, *_: object) -> None:
        if self._began is not None:
            self.in_transaction += time.thread_time() - self._began
            self.held_ms.append(1000 * (time.perf_counter() - self._held_from))
            self._began = None
        if self._commit_at:
            self.commit_wall += time.perf_counter() - self._commit_at
            self._commit_at = 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--conversations", type=int, default=40)
    parser.add_argument("--channel", choices=("sms", "voice"), default="sms")
    parser.add_argument("--profile", type=int, default=0, help="print this many functions by own CPU time")
    parser.add_argument("--opening", default="hi", help="the first text of each conversation (SMS)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-cost-"))
    url = os.environ.get("DATABASE_URL", "")
    with (scratch_schema(url, "cost") if url.startswith("postgres") else _sqlite(folder)) as database:
        settings = Settings(database_url=database, transport="twilio", twilio_account_sid="AC" + "0" * 32,
                            twilio_auth_token=TOKEN, twilio_phone_number=CLINIC,
                            twilio_api_base_url="http://127.0.0.1:9", flows_dir=str(ROOT / "flows"),
                            roster_file=str(ROOT / "roster.example.yaml"), clinic_name="Cost Clinic",
                            clinic_phone=CLINIC, secret_key="cost", data_key=new_key(), auto_migrate=True,
                            spool_dir=str(folder / "spool"), public_base_url="http://cost.invalid")
        app = create_app(settings)
        svc = app.extensions["triage"]
        client, validator = app.test_client(), RequestValidator(TOKEN)

        def post(path: str, form: dict[str, str]) -> str:
            signature = validator.compute_signature("http://cost.invalid" + path, form)
            response = client.post(path, data=form, headers={"X-Twilio-Signature": signature})
            assert response.status_code == 200 and b"<Response>" in response.data, response.data
            return response.get_data(as_text=True)

        by_turn: dict[int, list[float]] = {}  # webhook's place -> [count, statements, CPU s, in transaction s]

        def counted(turn: int, path: str, form: dict[str, str]) -> str:
            if meter is None:  # the warm-up conversation: not counted
                return post(path, form)
            statements, inside, cpu = meter.statements, meter.in_transaction, time.thread_time()
            answer = post(path, form)
            figures = by_turn.setdefault(turn, [0, 0, 0.0, 0.0])
            figures[0] += 1
            figures[1] += meter.statements - statements
            figures[2] += time.thread_time() - cpu
            figures[3] += meter.in_transaction - inside
            return answer

        def conversation(n: int) -> int:
            phone = f"+1312555{n:04d}"
            if args.channel == "sms":
                for turn, body in enumerate([args.opening, *BENIGN[1:]]):
                    counted(turn, "/twilio/sms", {"From": phone, "To": CLINIC, "Body": body, "NumMedia": "0",
                                                  "MessageSid": "SM" + uuid.uuid4().hex,
                                                  "AccountSid": "AC" + "0" * 32})
                return len(BENIGN)
            sid, path = "CA" + uuid.uuid4().hex, "/twilio/voice"
            for turn, digit in enumerate(CALL):
                form = {"CallSid": sid, "AccountSid": "AC" + "0" * 32, "From": phone, "To": CLINIC,
                        "Direction": "inbound", "CallStatus": "in-progress"}
                if digit is not None:
                    form["Digits"] = digit
                found = ACTION.search(counted(turn, path, form))
                path = found.group(1).replace("&amp;", "&") if found else path
            return len(CALL)

        meter: Meter | None = None
        conversation(0)  # the first request's one-off work (Flask's, SQLAlchemy's statement caches)
        meter = Meter(svc.engine)
        pauses = GcPauses()
        profiler = cProfile.Profile() if args.profile else None
        cpu, wall = time.process_time(), time.perf_counter()
        if profiler:
            profiler.enable()
        webhooks = sum(conversation(n) for n in range(1, args.conversations + 1))
        if profiler:
            profiler.disable()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        svc.shutdown()
        svc.engine.dispose()
        dialect = "Postgres" if database.startswith("postgres") else "SQLite"
        print(f"{args.channel} on {dialect}: {webhooks} webhooks in {args.conversations} conversations"
              + (" (under cProfile: CPU figures inflated)" if profiler else ""))
        print(f"  CPU per webhook {1000 * cpu / webhooks:.2f} ms, of it inside the transaction "
              f"{1000 * meter.in_transaction / webhooks:.2f} ms; commit wall {1000 * meter.commit_wall / webhooks:.2f} "
              f"ms; wall {1000 * wall / webhooks:.2f} ms; statements per webhook {meter.statements / webhooks:.2f}")
        held = sorted(meter.held_ms)
        print(f"  transaction wall (begin to commit done) p50 {held[len(held) // 2]:.1f} ms, p99 "
              f"{held[int(0.99 * (len(held) - 1))]:.1f} ms, max {held[-1]:.1f} ms over {len(held)} transactions")
        print(f"  garbage collector: {pauses}")
        print("  by the webhook's place in its conversation: statements, CPU ms, of it inside the transaction (the "
              "first text starts the conversation, the screen's last schedules the check-ins)")
        print("    " + "; ".join(f"{turn + 1}: {statements / count:.1f}, {1000 * cpu / count:.2f}, "
                                 f"{1000 * inside / count:.2f}"
                                 for turn, (count, statements, cpu, inside) in sorted(by_turn.items())))
        if profiler:
            pstats.Stats(profiler).sort_stats(os.environ.get("COST_SORT", "tottime")).print_stats(args.profile)
            if os.environ.get("COST_DUMP"):  # for pstats or a grouping of one's own
                profiler.dump_stats(os.environ["COST_DUMP"])


class GcPauses:
    """Each collection's pause, by generation: a collection stops every thread of the process, and one of
    the oldest generation walks every object the process holds (the flows, their patterns, the typo
    dictionaries), so it lands in the tail of whichever webhooks are in flight."""

    def __init__(self) -> None:
        self.ms: dict[int, list[float]] = {0: [], 1: [], 2: []}
        self._started = 0.0
        gc.callbacks.append(self._note)

    def _note(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.ms[info["generation"]].append(1000 * (time.perf_counter() - self._started))

    def __str__(self) -> str:
        return "; ".join(f"generation {g}: {len(v)} collections, max {max(v, default=0):.1f} ms, "
                         f"total {sum(v):.0f} ms" for g, v in self.ms.items())


class _sqlite:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def __enter__(self) -> str:
        return f"sqlite:///{self.folder / 'cost.sqlite3'}"

    def __exit__(self, *_: object) -> None:
        for leftover in self.folder.glob("cost.sqlite3*"):
            leftover.unlink()


if __name__ == "__main__":
    main()
