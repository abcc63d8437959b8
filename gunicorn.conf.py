"""gunicorn settings for the `web` process (Procfile). Every knob comes from the environment.

Each worker is a separate process with its own database pool (no preload: connections must not be
shared across fork); workers coordinate only through the database (row locks, webhook receipts,
conditional UPDATEs), so any number of them, on any number of machines, may serve one clinic.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("WEB_THREADS", "4"))
worker_class = "gthread"
preload_app = False

# Twilio waits 15 s for a webhook's answer, then gives up and the patient hears nothing. A worker
# that stops answering for 10 s is killed and replaced; a slow request cannot hold a thread that
# long either (Postgres lock and statement timeouts in service/db.py, Twilio REST timeout in
# settings, and texts are sent after the answer, not before).
timeout = 10
graceful_timeout = 10  # on SIGTERM (deploys): finish the webhooks in flight, then exit
keepalive = 5  # Twilio reuses connections; the platform's router may too

# One line per request: no query string, no body, no headers but our request id. Phone numbers
# and message text arrive only in form bodies, which gunicorn never logs.
accesslog = "-"
access_log_format = ("access method=%(m)s path=%(U)s status=%(s)s bytes=%(B)s duration_ms=%(M)s pid=%(p)s "
                     "request_id=%({x-request-id}o)s")
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()

# gunicorn's management socket defaults to one shared path per user (~/.gunicorn/gunicorn.ctl): two
# servers on one machine (tests, CI's two database runs) would fight over it, and the Procfile's
# platform manages processes by signals anyway.
control_socket_disable = True

# /metrics adds up every worker's counts (service/metrics): prometheus_client's multiprocess mode, each worker
# writing its own files in one directory, set before any worker imports the app (no preload).
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="triage-metrics-")


def on_starting(server):  # type: ignore[no-untyped-def]
    """A fresh start counts from zero: files a previous server left in a given directory would add up."""
    for old in Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).glob("*.db"):
        old.unlink()


def child_exit(server, worker):  # type: ignore[no-untyped-def]
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker):  # type: ignore[no-untyped-def]
    """Keep the collector off what the worker built at start. Loading the app compiles thousands of red-flag
    patterns and reads the typo dictionaries (flowstore.warm_up): about 130 000 objects the garbage collector
    tracks, and each full collection walked them all, ~95 ms with nothing to free. Under steady load that was the
    paced p99 (bench/load.py, think 0.5 s: 93-99 ms against the floor's 5-7). Frozen, they are never scanned; what
    requests build is still collected. A flow edited while serving is built anew and collected as usual."""
    import gc

    gc.collect()
    gc.freeze()
