"""Processes take turns at SQLite's one writer (service/sqlite_writer.py), through real files and engines.

Two engines on one file stand for two processes: each has its own connection and its own lock files'
descriptors, and flock locks belong to the descriptor, so they exclude each other exactly as two
processes do.
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from sqlalchemy import text

from service.db import make_engine
from service.settings import ROOT


def _engine(path: Path):  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE IF NOT EXISTS turns (who TEXT)"))
    return engine


def _write(engine, who: str, hold: float = 0.0) -> None:  # type: ignore[no-untyped-def]
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO turns VALUES (:who)"), {"who": who})
        time.sleep(hold)


def _order(engine) -> list[str]:  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        return [row[0] for row in connection.execute(text("SELECT who FROM turns ORDER BY rowid"))]


def _hold(engine, holding: threading.Event, release: threading.Event) -> None:  # type: ignore[no-untyped-def]
    """Write, say so, and keep the transaction (and the turn) open until told to commit."""
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO turns VALUES ('first')"))
        holding.set()
        release.wait(5)


def _holding_the_turn(engine) -> tuple[threading.Thread, threading.Event]:  # type: ignore[no-untyped-def]
    """A writer in a thread of its own that holds the turn until the returned event is set."""
    holding, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=_hold, args=(engine, holding, release))
    holder.start()
    assert holding.wait(5)
    return holder, release


def _write_and_time(engine, who: str, done: list[float]) -> None:  # type: ignore[no-untyped-def]
    _write(engine, who)
    done.append(time.monotonic())


def test_a_waiting_writer_goes_before_the_one_that_just_wrote(tmp_path: Path) -> None:
    path = tmp_path / "turns.sqlite3"
    first, second = _engine(path), _engine(path)
    writer, release = _holding_the_turn(first)
    waiter = threading.Thread(target=_write, args=(second, "second"))
    waiter.start()
    time.sleep(0.3)
    assert waiter.is_alive()  # queued for the turn, not written
    release.set()
    writer.join(5)
    _write(first, "first again")  # the process that just wrote asks again at once: it queues behind
    waiter.join(5)
    assert _order(first) == ["first", "second", "first again"]
    first.dispose()
    second.dispose()


def test_the_turn_is_handed_over_at_once_not_after_a_busy_handler_sleep(tmp_path: Path) -> None:
    path = tmp_path / "turns.sqlite3"
    first, second = _engine(path), _engine(path)
    waits: list[float] = []
    for _ in range(8):
        holding, release, done = threading.Event(), threading.Event(), []
        holder = threading.Thread(target=_hold, args=(first, holding, release))
        holder.start()
        holding.wait(5)
        waiter = threading.Thread(target=_write_and_time, args=(second, "second", done))
        waiter.start()
        time.sleep(0.3)  # SQLite's busy handler is then in its 50 and 100 ms sleeps (it would wake at 353 ms)
        released = time.monotonic()
        release.set()
        holder.join(5)
        waiter.join(5)
        waits.append(done[0] - released)
    # SQLite's busy handler would wake after its current sleep; a turn is looked for each millisecond.
    assert sorted(waits)[len(waits) // 2] < 0.02, waits
    first.dispose()
    second.dispose()


def test_a_writer_killed_in_its_transaction_leaves_no_turn_held(tmp_path: Path) -> None:
    path = tmp_path / "turns.sqlite3"
    engine = _engine(path)
    child = subprocess.Popen(
        [sys.executable, "-c", (
            "import sys, time\n"
            "from sqlalchemy import text\n"
            "from service.db import make_engine\n"
            f"engine = make_engine('sqlite:///{path}')\n"
            "connection = engine.connect()\n"
            "transaction = connection.begin()\n"
            "connection.execute(text(\"INSERT INTO turns VALUES ('killed')\"))\n"
            "print('holding', flush=True)\n"
            "time.sleep(60)\n")],
        cwd=ROOT, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "holding"
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
        started = time.monotonic()
        _write(engine, "after")
        assert time.monotonic() - started < 2  # not the 15 s a lost turn would cost
        assert _order(engine) == ["after"]  # the killed writer's row was never committed
    finally:
        if child.poll() is None:
            child.kill()
        engine.dispose()



def _urgent_waits(path: Path) -> bool:
    """Whether an urgent writer holds the urgent lock (waits for the turn), seen as another process sees it."""
    fd = os.open(f"{path}-urgent.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


def _wait_until(condition, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 5
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.002)


def test_a_page_goes_before_the_routine_writers_that_queue_after_it(tmp_path: Path) -> None:
    # One writer holds the turn and one waits next in line (the queue lock); then a page, then three more
    # webhooks from processes of their own. Without the urgent lock those three race the page for the queue
    # lock when the line moves on; with it they wait until the page has written.
    path = tmp_path / "turns.sqlite3"
    first, next_in_line = _engine(path), _engine(path)
    later = [_engine(path) for _ in range(3)]
    pages = make_engine(f"sqlite:///{path}", urgent=True)
    holder, release = _holding_the_turn(first)
    waiting = threading.Thread(target=_write, args=(next_in_line, "next in line"))
    waiting.start()
    time.sleep(0.1)  # it holds the queue lock, waiting for the writer's
    page = threading.Thread(target=_write, args=(pages, "page"))
    page.start()
    _wait_until(lambda: _urgent_waits(path), "the page never queued")
    webhooks = [threading.Thread(target=_write, args=(engine, f"webhook {n}")) for n, engine in enumerate(later)]
    for webhook in webhooks:
        webhook.start()
    time.sleep(0.1)
    release.set()
    for thread in (holder, waiting, page, *webhooks):
        thread.join(5)
    assert _order(first)[:3] == ["first", "next in line", "page"]
    assert sorted(_order(first)[3:]) == ["webhook 0", "webhook 1", "webhook 2"]
    for engine in (first, next_in_line, *later, pages):
        engine.dispose()


def test_the_writer_holding_the_turn_sees_a_page_waiting(tmp_path: Path) -> None:
    path = tmp_path / "turns.sqlite3"
    engine, pages = _engine(path), make_engine(f"sqlite:///{path}", urgent=True)
    with engine.begin() as connection:
        driver = connection.connection.driver_connection
        connection.execute(text("INSERT INTO turns VALUES ('first')"))
        assert not driver.urgent_waiting()
        page = threading.Thread(target=_write, args=(pages, "page"))
        page.start()
        _wait_until(driver.urgent_waiting, "the holder never saw the page waiting")
    page.join(5)
    assert _order(engine) == ["first", "page"]
    engine.dispose()
    pages.dispose()
