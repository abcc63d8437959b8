"""Would psycopg's pipeline mode make a text cheaper on Postgres? Measured, not in the service. A script that
prints figures:

    DATABASE_URL=postgresql://... python bench/pg_pipeline_experiment.py [--n 2000]

A text's transaction has the shape this plays: a row locked (SELECT ... FOR UPDATE), one read, four writes
whose results nothing waits for, the commit. Played one statement at a time (as the service does), then with
the four writes and the commit sent as one pipeline (one round trip instead of five), alternately, on a
scratch table in a schema of its own. Prints per transaction: this process's CPU, the Postgres server's CPU
(every postgres process's utime + stime, from /proc: run it with the server on this machine) and the wall
time (the commit's fsync dominates it).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from service.db import scratch_schema  # noqa: E402


def server_cpu() -> float:
    """CPU seconds of every postgres process on this machine, and of the backends that have exited."""
    ticks = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            name = Path(f"/proc/{pid}/comm").read_text().strip()
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if name.startswith("postgres"):
            ticks += sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def transaction(connection: psycopg.Connection, pipelined: bool) -> None:
    cursor = connection.cursor()
    cursor.execute("SELECT id, body FROM pipeline_rows WHERE k = %s FOR UPDATE", (5,))
    cursor.fetchall()
    cursor.execute("SELECT count(*) FROM pipeline_rows WHERE k = %s", (6,))
    cursor.fetchall()
    if pipelined:
        with connection.pipeline():
            for offset in range(4):
                cursor.execute("UPDATE pipeline_rows SET body = %s WHERE k = %s", ("y", 7 + offset))
            connection.commit()
    else:
        for offset in range(4):
            cursor.execute("UPDATE pipeline_rows SET body = %s WHERE k = %s", ("y", 7 + offset))
        connection.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=2000, help="transactions per measurement")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        raise SystemExit("set DATABASE_URL to a Postgres database")
    with scratch_schema(url, "pipeline") as scratch:
        plain = scratch.replace("postgresql+psycopg://", "postgresql://", 1)
        with psycopg.connect(plain) as connection:
            connection.execute("CREATE TABLE pipeline_rows (id serial PRIMARY KEY, k int, body text)")
            connection.execute("INSERT INTO pipeline_rows (k, body) SELECT g, 'x' FROM generate_series(1, 1000) g")
            connection.commit()
            for pipelined in (False, True, False, True):
                server, cpu, wall = server_cpu(), time.process_time(), time.perf_counter()
                for _ in range(args.n):
                    transaction(connection, pipelined)
                server, cpu, wall = server_cpu() - server, time.process_time() - cpu, time.perf_counter() - wall
                print(f"{'pipeline' if pipelined else 'one by one':>10}: client CPU {1000 * cpu / args.n:.3f} ms, "
                      f"Postgres CPU {1000 * server / args.n:.3f} ms, wall {1000 * wall / args.n:.3f} ms a transaction")


if __name__ == "__main__":
    main()
