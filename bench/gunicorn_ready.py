"""gunicorn config for the benchmark: each worker marks itself ready once the app is loaded, so
that load starts only when every worker can take connections (a worker still importing the app
would leave the first one with all of wrk's keep-alive connections, and half the machine idle)."""

import os
from pathlib import Path


def post_worker_init(worker):
    ready = os.environ.get("BENCH_READY_DIR")
    if ready:
        Path(ready, str(worker.pid)).touch()
