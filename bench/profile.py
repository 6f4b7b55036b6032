"""Where a page's time goes: every measured route rendered in-process with the production
configuration and the app's cache off, as the app alone serves it, but through Flask's test
client (no HTTP server, one thread), so what is counted is the app's own work.

Per route it reports the mean wall time of a request, the Python function calls per request
(the number to drive down: it repeats exactly from run to run, unlike seconds on a shared
machine), the SQL statements per request and the time from sending each to its answer, and
how many of those statements psycopg converts anew on every run (longer than
``MAX_CACHED_STATEMENT_LENGTH`` or with more parameters than ``MAX_CACHED_STATEMENT_PARAMS``:
a few hundred calls each); ``--top K`` adds cProfile's K heaviest functions by own time for
each route.

    python -m bench profile --scale small [--only home "case list"] [--requests 20] [--top 25]
"""

from __future__ import annotations

import cProfile
import io
import pstats
import time

from sqlalchemy import event

from bench import run as runner

try:  # psycopg keeps the converted form of statements up to these sizes (psycopg/_queries.py)
    from psycopg._queries import MAX_CACHED_STATEMENT_LENGTH, MAX_CACHED_STATEMENT_PARAMS
except ImportError:  # another driver, or psycopg moved them: not counted
    MAX_CACHED_STATEMENT_LENGTH = MAX_CACHED_STATEMENT_PARAMS = None

BASE = "http://127.0.0.1"  # PUBLIC_URL: the trusted host


def _calls(stats: pstats.Stats) -> int:
    return sum(cc for cc, _nc, _tt, _ct, _callers in stats.stats.values())  # type: ignore[attr-defined]


def profile(app, *, requests: int = 20, only=None, top: int = 0) -> list[dict]:
    fx = runner.fixtures(app, n_pairs=15)
    chosen = [
        r
        for r in runner.routes(fx)
        if not r[0].startswith("support POST") and (not only or any(o in r[0] for o in only))
    ]
    statements = [0]
    uncached = [0]
    sql_seconds = [0.0]
    begun: list[float] = []

    def count(_conn, _cursor, statement, parameters, _context, executemany):
        statements[0] += 1
        one_set = parameters[0] if executemany and parameters else parameters
        if MAX_CACHED_STATEMENT_LENGTH is not None and (
            len(statement.encode()) > MAX_CACHED_STATEMENT_LENGTH
            or len(one_set or ()) > MAX_CACHED_STATEMENT_PARAMS
        ):
            uncached[0] += 1
        begun.append(time.perf_counter())

    def took(*_args, **_kwargs):
        if begun:
            sql_seconds[0] += time.perf_counter() - begun.pop()

    from portal.extensions import db

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    event.listen(engine, "after_cursor_execute", took)
    # No cookie jar: the routes send the cookie a browser holds, in their headers.
    client = app.test_client(use_cookies=False)
    rows = []
    try:
        for name, path, headers, _extra in chosen:
            for _ in range(3):  # warm: templates compiled, statement caches filled
                status = client.get(path, headers=headers, base_url=BASE).status_code
            statements[0] = uncached[0] = 0
            sql_seconds[0] = 0.0
            started = time.perf_counter()
            for _ in range(requests):
                client.get(path, headers=headers, base_url=BASE)
            wall = (time.perf_counter() - started) / requests
            queries = statements[0] / requests
            reparsed = uncached[0] / requests
            sql_ms = sql_seconds[0] * 1000 / requests
            prof = cProfile.Profile()
            prof.enable()
            for _ in range(requests):
                client.get(path, headers=headers, base_url=BASE)
            prof.disable()
            stats = pstats.Stats(prof)
            row = {
                "route": name,
                "status": status,
                "ms": round(wall * 1000, 2),
                "calls": round(_calls(stats) / requests),
                "queries": round(queries, 1),
                "reparsed": "n/a" if MAX_CACHED_STATEMENT_LENGTH is None else round(reparsed, 1),
                "sql_ms": round(sql_ms, 2),
            }
            if top:
                out = io.StringIO()
                stats.stream = out  # type: ignore[attr-defined]
                stats.sort_stats("tottime").print_stats(top)
                row["top"] = out.getvalue()
            rows.append(row)
    finally:
        event.remove(engine, "before_cursor_execute", count)
        event.remove(engine, "after_cursor_execute", took)
    return rows


def render(rows: list[dict]) -> str:
    lines = [
        "| route | status | ms/request | of which SQL ms | Python calls/request "
        "| SQL statements/request | of which converted anew by psycopg |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['route']} | {r['status']} | {r['ms']} | {r['sql_ms']} | {r['calls']} "
            f"| {r['queries']} | {r['reparsed']} |"
        )
    for r in rows:
        if r.get("top"):
            lines += ["", f"### {r['route']}", "", "```", r["top"].strip(), "```"]
    return "\n".join(lines) + "\n"
