"""Open data exports at scale: each file downloaded whole from gunicorn (production
configuration, the app's cache off), timed, with the serving worker's memory sampled while it
streams. ``python -m bench exports --scale city``.

What it shows: the time to stream every public proposal and every case, and that a worker's
memory stays flat while it does (rows are read in keyset batches and sent as they are
written), whatever the number of rows."""

from __future__ import annotations

import http.client
import threading
import time

from bench import run as runner

EXPORTS = (
    "/open-data/proposals.csv",
    "/open-data/proposals.json",
    "/open-data/cases.csv",
    "/open-data/cases.json",
)


def _peak_rss(master_pid: int, stop: threading.Event, out: list[float]) -> None:
    while not stop.is_set():
        out.append(max(runner.worker_rss_mb(master_pid) or [0.0]))
        time.sleep(0.05)


def measure(db_url: str, redis_url: str | None) -> dict:
    env = runner.env_for(db_url, redis_url, app_cache=False)
    rows = []
    with runner.gunicorn("wsgi:app", env) as (port, proc):

        def get(path: str) -> http.client.HTTPResponse:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
            conn.request("GET", path, headers={"Host": "127.0.0.1"})
            return conn.getresponse()

        # Warm each worker (imports, pools) so the first file does not pay for it.
        for _ in range(4):
            get("/healthz").read()
        idle = max(runner.worker_rss_mb(proc.pid) or [0.0])
        for path in EXPORTS:
            samples: list[float] = []
            stop = threading.Event()
            sampler = threading.Thread(target=_peak_rss, args=(proc.pid, stop, samples))
            sampler.start()
            started = time.perf_counter()
            first_byte = None
            size = 0
            lines = 0
            resp = get(path)
            status = resp.status
            while chunk := resp.read(65536):
                if first_byte is None:
                    first_byte = time.perf_counter() - started
                size += len(chunk)
                lines += chunk.count(b"\n")
            seconds = time.perf_counter() - started
            stop.set()
            sampler.join()
            rows.append(
                {
                    "path": path,
                    "status": status,
                    "mb": round(size / 1e6, 1),
                    "lines": lines,
                    "seconds": round(seconds, 2),
                    "first_byte_ms": round((first_byte or 0) * 1000),
                    "mb_per_s": round(size / 1e6 / seconds, 1) if seconds else None,
                    "peak_worker_rss_mb": max(samples or [0.0]),
                }
            )
    return {"idle_worker_rss_mb": idle, "exports": rows, "machine": runner.machine()}


def render(results: dict) -> str:
    out = [
        f"# Open data exports, {results.get('scale', '?')} scale",
        "",
        "Each file downloaded whole from gunicorn (production configuration, app cache off);",
        f"a worker's memory before: {results['idle_worker_rss_mb']} MB.",
        "",
        "| file | status | size (MB) | lines | first byte (ms) | seconds | MB/s | peak RSS (MB) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results["exports"]:
        out.append(
            f"| `{r['path']}` | {r['status']} | {r['mb']} | {r['lines']} | {r['first_byte_ms']}"
            f" | {r['seconds']} | {r['mb_per_s']} | {r['peak_worker_rss_mb']} |"
        )
    return "\n".join(out) + "\n"
