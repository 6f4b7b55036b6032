"""Serving and measuring: gunicorn with the production configuration, a bare Flask floor under
the same settings, wrk at fixed concurrency, and the burst and growth measurements."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import platform
import random
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
LUA = ROOT / "bench" / "wrk.lua"
SECRET = "bench-" + "x" * 40
WORKERS, THREADS = 2, 4  # gunicorn gthread workers and threads, for the floor and the app
KEEPALIVE = 5


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env_for(db_url: str, redis_url: str | None, *, app_cache: bool = True) -> dict:
    """The app's environment. ``app_cache=False`` turns the app's own cache off
    (``CACHE_TYPE=NullCache``): the "app alone" measures rendering, not a cache."""
    env = dict(os.environ)
    env.update(
        COMMONS_ENV="production",
        SECRET_KEY=SECRET,
        PUBLIC_URL="http://127.0.0.1",  # wrk and the burst reach it there (TRUSTED_HOSTS)
        DATABASE_URL=db_url,
        RATELIMIT_ENABLED="0",
        # The seeded residents have email accounts, no numbers: both ways, as development.
        SIGN_IN_METHODS="phone,email",
        COMMONS_INSTANCE_PATH=str(ROOT / "instance" / "bench"),
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    else:
        env.pop("REDIS_URL", None)
    if app_cache:
        env.pop("CACHE_TYPE", None)
    else:
        env["CACHE_TYPE"] = "NullCache"
    return env


@contextlib.contextmanager
def gunicorn(
    app: str,
    env: dict,
    workers: int | None = None,
    threads: int | None = None,
    connections: int = 32,
):
    """Serve ``app``; BENCH_WORKERS and BENCH_THREADS override the worker settings for
    experiments (the floor and the app always share them).

    Each worker holds at most its share of the load's keep-alive connections (gunicorn's
    worker_connections), as a load balancer in front would spread them: otherwise the worker
    that wakes first when wrk connects takes most of them and the other core idles, and which
    one did so changed the result of a run by up to half."""
    workers = int(os.environ.get("BENCH_WORKERS", workers or WORKERS))
    threads = int(os.environ.get("BENCH_THREADS", threads or THREADS))
    per_worker = max(threads + 1, -(-connections // workers))
    port = free_port()
    ready = Path(tempfile.mkdtemp(prefix="bench-ready-"))
    env = dict(env, BENCH_READY_DIR=str(ready))
    cmd = [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        str(ROOT / "bench" / "gunicorn_ready.py"),
        "-w",
        str(workers),
        "--threads",
        str(threads),
        "-k",
        "gthread",
        "-b",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        "--keep-alive",
        os.environ.get("BENCH_KEEPALIVE", str(KEEPALIVE)),
        "--worker-connections",
        os.environ.get("BENCH_WORKER_CONNECTIONS", str(per_worker)),
        app,
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
    try:
        for _ in range(600):
            if len(list(ready.iterdir())) >= workers:
                break
            if proc.poll() is not None:
                raise RuntimeError(f"{app} exited with {proc.returncode}")
            time.sleep(0.1)
        else:
            raise RuntimeError(f"{app} did not start {workers} workers")
        with socket.create_connection(("127.0.0.1", port), 5):
            pass
        yield port, proc
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(ready, ignore_errors=True)


def worker_rss_mb(master_pid: int) -> list[float]:
    out = []
    for child in Path("/proc").iterdir():
        if not child.name.isdigit():
            continue
        try:
            status = (child / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if fields.get("PPid", "").strip() == str(master_pid):
            rss = fields.get("VmRSS", "0 kB").split()[0]
            out.append(round(int(rss) / 1024, 1))
    return out


def wrk(
    port: int | str,
    path: str,
    *,
    seconds: int,
    connections: int,
    headers: dict | None = None,
    pairs: Path | None = None,
    offset: int = 0,
) -> dict:
    if not shutil.which("wrk"):
        raise RuntimeError("wrk is not installed: apt-get install wrk")
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-s", str(LUA)]
    for k, v in (headers or {}).items():
        cmd += ["-H", f"{k}: {v}"]
    base = port if isinstance(port, str) else f"http://127.0.0.1:{port}"
    cmd.append(f"{base}{path}")
    env = dict(os.environ, WRK_THREADS="2")
    if pairs:
        env["PAIRS"] = str(pairs)
        env["OFFSET"] = str(offset)
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=seconds + 60)
    line = [x for x in out.stdout.splitlines() if x.startswith("{")]
    if not line:
        raise RuntimeError(f"wrk failed: {out.stdout}\n{out.stderr}")
    data = json.loads(line[-1])
    data["rps"] = round(data["requests"] / (data["duration_us"] / 1e6), 1)
    return data


# --- fixtures for the routes -------------------------------------------------------------------


def fixtures(app, n_pairs: int = 20000) -> dict:
    """Ids and credentials the routes need, taken from the seeded database."""
    from portal.accounts.models import ApiToken, User, UserSession
    from portal.extensions import db

    with app.app_context():
        q = lambda sql, **kw: db.session.execute(sa.text(sql), kw)  # noqa: E731
        hot = q(
            "SELECT proposal_id FROM comments GROUP BY proposal_id ORDER BY count(*) DESC LIMIT 1"
        ).scalar()
        community = q(
            "SELECT c.code FROM communities c JOIN proposals p ON p.community_id = c.id"
            " WHERE p.status = 'open' GROUP BY c.code ORDER BY count(*) DESC "
            "LIMIT 1"
        ).scalar()
        case = q("SELECT number FROM cases ORDER BY id DESC LIMIT 1").scalar()
        moderated = q(
            "SELECT c.code FROM reports r JOIN communities c ON c.id = r.community_id "
            "WHERE r.resolved_at IS NULL GROUP BY c.code ORDER BY count(*) DESC LIMIT 1"
        ).scalar()
        now = datetime.now(UTC)

        hot_reader = q(
            "SELECT u.id FROM users u JOIN proposals p ON p.community_id = u.community_id"
            " WHERE p.id = :p AND u.id <> p.author_id ORDER BY u.id LIMIT 1",
            p=hot,
        ).scalar()

        busiest_author = q(
            "SELECT author_id FROM proposals GROUP BY author_id ORDER BY count(*) DESC LIMIT 1"
        ).scalar()

        def cookie_for(email: str | None = None, user_id: int | None = None) -> str:
            who = User.email == email if email else User.id == user_id
            user = db.session.scalar(sa.select(User).where(who))
            row = UserSession(
                id=secrets.token_urlsafe(32),
                user_id=user.id,
                session_version=user.session_version,
                created_at=now,
                last_seen_at=now + timedelta(days=1),
                # As after a sign-in that passed the staff second step (TOTP): the pages are
                # measured, not signing in.
                second_factor_at=now,
            )
            db.session.add(row)
            db.session.commit()
            serializer = app.session_interface.get_signing_serializer(app)
            # As a browser's cookie is after its first page: with the session's CSRF secret,
            # so pages sign it instead of minting one and setting a new cookie every time.
            value = serializer.dumps(
                {
                    "sid": row.id,
                    "_user_id": str(user.id),
                    "_fresh": True,
                    "csrf_token": secrets.token_hex(20),
                }
            )
            return f"{app.config['SESSION_COOKIE_NAME']}={value}"

        # Distinct (resident, open proposal of their community) pairs not yet supported: up to
        # 15 residents for each of many proposals, so that none reaches its threshold (no case
        # filing) and the supports spread over the table as they would in a city.
        per = 15
        chosen = q(
            """
            SELECT u.id, p.id FROM (
                SELECT id, community_id FROM proposals
                WHERE status = 'open' AND closes_at > :now AND hidden = false
                  AND support_count < threshold - :per
                ORDER BY id LIMIT :np) p
            CROSS JOIN LATERAL (
                SELECT u.id FROM users u
                WHERE u.community_id = p.community_id
                  AND NOT EXISTS (SELECT 1 FROM supports s WHERE s.proposal_id = p.id
                                  AND s.user_id = u.id)
                ORDER BY u.id LIMIT :per) u""",
            now=now,
            per=per,
            np=n_pairs // per + 1,
        ).all()[:n_pairs]
        tokens = {}
        for uid in {u for u, _p in chosen}:
            raw = secrets.token_urlsafe(24)
            tokens[uid] = raw
            db.session.add(
                ApiToken(
                    token_hash=hashlib.sha256(raw.encode()).hexdigest(),
                    user_id=uid,
                    session_version=1,
                    created_at=now,
                    expires_at=now + timedelta(days=2),
                )
            )
        db.session.commit()
        RESULTS.mkdir(parents=True, exist_ok=True)
        pairs = RESULTS / f"support-pairs-{db.engine.url.database}.tmp"
        # In random order: consecutive lines go out at once, and 15 residents of one proposal
        # in a row would measure a small burst on one row instead of supports across a city
        # (the burst measures that, separately).
        random.Random(7).shuffle(chosen)
        pairs.write_text("".join(f"{tokens[u]} {p}\n" for u, p in chosen))
        return {
            "hot_proposal": hot,
            "moderated_community": moderated or "110101001001",
            "community": community,
            "case": case,
            "pairs": pairs,
            "pair_count": len(chosen),
            "liaison_cookie": cookie_for("liaison.health-commission@example.org"),
            "committee_cookie": cookie_for("committee@example.org"),
            "resident_cookie": cookie_for(user_id=hot_reader),
            "author_cookie": cookie_for(user_id=busiest_author),
        }


def routes(fx: dict) -> list[tuple[str, str, dict, dict]]:
    """(name, path, headers, extra wrk options) of every measured route."""
    c = fx["community"]
    return [
        # What any page costs before its own content: base.html, sign-in, the request's hooks.
        ("static page (privacy notice)", "/privacy", {}, {}),
        ("home", "/", {}, {}),
        ("proposal list (page)", f"/communities/{c}/proposals", {}, {}),
        (
            "proposal list filtered+search (page)",
            f"/communities/{c}/proposals?category=health&sort=top&q=%E5%8D%AB%E7%94%9F",
            {},
            {},
        ),
        ("proposal list (API)", f"/api/v1/proposals?community={c}", {}, {}),
        (
            "proposal list filtered+search (API)",
            f"/api/v1/proposals?community={c}&category=health&sort=top&q=%E5%8D%AB%E7%94%9F",
            {},
            {},
        ),
        ("proposal page, 150 comments", f"/proposals/{fx['hot_proposal']}", {}, {}),
        (
            "proposal page, 150 comments (resident)",
            f"/proposals/{fx['hot_proposal']}",
            {"Cookie": fx["resident_cookie"]},
            {},
        ),
        ("my proposals (resident)", "/account/proposals", {"Cookie": fx["author_cookie"]}, {}),
        ("notifications (resident)", "/notifications", {"Cookie": fx["resident_cookie"]}, {}),
        ("case list", "/cases", {}, {}),
        ("dashboard, city, this year", "/dashboard?period=year", {}, {}),
        ("case page", f"/cases/{fx['case']}", {}, {}),
        (
            "liaison workspace (signed in)",
            "/workspace/agency/health-commission?tab=all",
            {"Cookie": fx["liaison_cookie"]},
            {},
        ),
        (
            "moderation queue (signed in)",
            f"/communities/{fx['moderated_community']}/moderation",
            {"Cookie": fx["committee_cookie"]},
            {},
        ),
        (
            "support POST (distinct residents)",
            "/api/v1/proposals/0/support",
            {},
            {"pairs": fx["pairs"]},
        ),
    ]


def machine() -> dict:
    mem = "?"
    with contextlib.suppress(OSError):
        mem = next(
            line.split(":")[1].strip()
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
    cpu = "?"
    with contextlib.suppress(OSError, StopIteration):
        cpu = next(
            line.split(":")[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory": mem,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


SLICE_SECONDS = 2


def _merge(runs: list[dict]) -> dict:
    """One result from consecutive wrk runs: totals, and latency percentiles averaged."""
    requests = sum(x["requests"] for x in runs)
    duration = sum(x["duration_us"] for x in runs)
    out = {
        "requests": requests,
        "duration_us": duration,
        "rps": round(requests / (duration / 1e6), 1),
        "errors": sum(x["errors"] for x in runs),
        "non_2xx": sum(x["non_2xx"] for x in runs),
        "slices": len(runs),
    }
    for k in ("p50_ms", "p95_ms", "p99_ms"):
        out[k] = round(sum(x[k] for x in runs) / len(runs), 2)
    return out


def alternating(first: dict, second: dict, *, seconds: int, connections: int):
    """Two loads (port, path, headers, pairs) in alternating slices of SLICE_SECONDS, so that
    both see the same machine: its speed drifts by a factor of two from minute to minute here.
    Support pairs continue where the previous slice stopped, so none is sent twice."""
    slices = max(1, seconds // SLICE_SECONDS)
    each = max(1, seconds // slices)
    runs: tuple[list, list] = ([], [])
    offsets = [0, 0]
    for _ in range(slices):
        for i, spec in enumerate((first, second)):
            run = wrk(
                spec["port"],
                spec["path"],
                seconds=each,
                connections=connections,
                headers=spec.get("headers"),
                pairs=spec.get("pairs"),
                offset=offsets[i],
            )
            offsets[i] = max(offsets[i], run.get("next_line", 0))
            runs[i].append(run)
    return _merge(runs[0]), _merge(runs[1])


def paired(floor_port, port, path, *, seconds, connections, headers, pairs=None):
    """The route and the floor in alternating slices."""
    return alternating(
        {"port": floor_port, "path": "/"},
        {"port": port, "path": path, "headers": headers, "pairs": pairs},
        seconds=seconds,
        connections=connections,
    )


STACKS = ("app", "deployed")


def run_routes(
    app,
    db_url: str,
    redis_url: str | None,
    *,
    seconds: int,
    connections: int,
    only: list[str] | None = None,
    stacks: tuple[str, ...] = STACKS,
) -> dict:
    """Every route on each stack: "app", gunicorn alone with the app's cache off, against the
    bare floor under the same gunicorn settings; "deployed", nginx (deploy/nginx, micro-cache
    on) in front of the app with its cache on Redis, against the floor behind the same nginx,
    uncached."""
    fx = fixtures(app)
    results = {
        "machine": machine(),
        "seconds": seconds,
        "connections": connections,
        "stacks": {},
    }
    for stack in stacks:
        print(f"  --- {stack} ---", flush=True)
        env = env_for(db_url, redis_url, app_cache=stack != "app")
        with (
            gunicorn("bench.floor:app", env, connections=connections) as (floor_port, _f),
            gunicorn("wsgi:app", env, connections=connections) as (port, proc),
            _front(stack, port, floor_port) as (site, floor),
        ):
            r = _measure(fx, site, floor, seconds=seconds, connections=connections, only=only)
            r["worker_rss_mb"] = worker_rss_mb(proc.pid)
        results["stacks"][stack] = r
    return results


@contextlib.contextmanager
def _front(stack: str, port: int, floor_port: int):
    if stack == "deployed":
        from bench.stack import behind_nginx

        with behind_nginx(port, floor_port) as bases:
            yield bases
    else:
        yield port, floor_port


def _measure(fx, site, floor_site, *, seconds: int, connections: int, only) -> dict:
    results: dict = {"routes": []}
    # The floor runs on its own server with the same settings, alternating with each route
    # (see paired), and each ratio uses the floor of its own moments.
    floors = []
    wrk(floor_site, "/", seconds=1, connections=connections)  # warm up
    # The second anchor: a bare page that runs one query, next to a floor run.
    wrk(floor_site, "/db", seconds=1, connections=connections)
    anchor_floor, anchor = paired(
        floor_site, floor_site, "/db", seconds=seconds, connections=connections, headers={}
    )
    anchor.update(
        floor_rps=anchor_floor["rps"], ratio=round(anchor["rps"] / anchor_floor["rps"], 3)
    )
    results["one_query_page"] = anchor
    print(
        f"  {'bare one-query PostgreSQL page':42s} {anchor['rps']:8.1f} req/s  "
        f"ratio {anchor['ratio']:.3f} (floor {anchor_floor['rps']:.0f})",
        flush=True,
    )
    for name, path, headers, extra in routes(fx):
        if only and not any(o in name for o in only):
            continue
        if extra.get("pairs") and not isinstance(site, int):
            continue  # supports are measured on the app alone; each pair can be sent once
        if extra.get("pairs") and not fx["pair_count"]:
            print(
                f"  {name}: skipped, no unsupported (resident, proposal) pairs left; reseed",
                flush=True,
            )
            continue
        if not extra.get("pairs"):
            wrk(site, path, seconds=1, connections=connections, headers=headers)
        floor, r = paired(
            floor_site,
            site,
            path,
            seconds=seconds,
            connections=connections,
            headers=headers,
            pairs=extra.get("pairs"),
        )
        floors.append(floor)
        ratio = round(r["rps"] / floor["rps"], 3)
        r.update(name=name, path=path, floor_rps=floor["rps"], ratio=ratio)
        results["routes"].append(r)
        print(
            f"  {name:42s} {r['rps']:8.1f} req/s  ratio {r['ratio']:.3f} "
            f"(floor {floor['rps']:.0f})  p95 {r['p95_ms']:.1f} ms  "
            f"errors {r['errors'] + r['non_2xx']}",
            flush=True,
        )
    if floors:
        ranked = sorted(floors, key=lambda f: f["rps"])
        results["floor"] = dict(ranked[len(ranked) // 2])  # the median run
        results["floor"]["range_rps"] = [ranked[0]["rps"], ranked[-1]["rps"]]
    return results


def burst(app, db_url: str, redis_url: str | None, *, n: int = 2000, concurrency: int = 50) -> dict:
    """n distinct residents support one proposal at once; then check the invariants."""
    from portal.accounts.models import ApiToken, User
    from portal.extensions import db
    from portal.places.models import Community
    from portal.proposals.models import Proposal, ProposalEvent, Status, Support

    with app.app_context():
        community = db.session.scalar(
            sa.select(Community).order_by(Community.confirmed_residents.desc()).limit(1)
        )
        now = datetime.now(UTC)
        # Enough residents in one community: add them if the seed gave fewer.
        have = db.session.scalars(sa.select(User.id).where(User.community_id == community.id)).all()
        missing = max(0, n + 1 - len(have))
        if missing:
            from portal.demo import _hash

            base = db.session.scalar(sa.select(sa.func.max(User.id))) + 1
            db.session.execute(
                sa.insert(User),
                [
                    {
                        "id": base + i,
                        "email": f"burst{base + i}@bench.example.org",
                        "display_name": "burst",
                        "password_hash": _hash(),
                        "locale": "zh_Hans",
                        "display_mode": "standard",
                        "session_version": 1,
                        "community_id": community.id,
                        "created_at": now,
                    }
                    for i in range(missing)
                ],
            )
            if db.engine.dialect.name == "postgresql":
                db.session.execute(
                    sa.text(
                        "SELECT setval(pg_get_serial_sequence('users', 'id'), "
                        "(SELECT MAX(id) FROM users))"
                    )
                )
            have = db.session.scalars(
                sa.select(User.id).where(User.community_id == community.id)
            ).all()
        author, voters = have[0], have[1 : n + 1]
        p = Proposal(
            community_id=community.id,
            author_id=author,
            category_id=1,
            title="压测：同时附议",
            summary="burst",
            body="burst",
            body_html="burst",
            status=Status.open,
            threshold=n // 2,
            support_count=1,
            opened_at=now,
            closes_at=now + timedelta(days=30),
            submitted_at=now,
        )
        db.session.add(p)
        db.session.flush()
        db.session.add(Support(proposal_id=p.id, user_id=author))
        tokens = []
        for uid in voters:
            raw = secrets.token_urlsafe(24)
            tokens.append(raw)
            db.session.add(
                ApiToken(
                    token_hash=hashlib.sha256(raw.encode()).hexdigest(),
                    user_id=uid,
                    session_version=1,
                    created_at=now,
                    expires_at=now + timedelta(days=1),
                )
            )
        db.session.commit()
        pid = p.id
    env = env_for(db_url, redis_url)
    with gunicorn("wsgi:app", env, connections=concurrency) as (port, _proc):
        started = time.perf_counter()
        codes = asyncio.run(_fire_supports(port, pid, tokens, concurrency))
        elapsed = time.perf_counter() - started
    with app.app_context():
        p = db.session.get(Proposal, pid)
        rows = db.session.scalar(
            sa.select(sa.func.count(Support.id)).where(Support.proposal_id == pid)
        )
        qualified = db.session.scalar(
            sa.select(sa.func.count(ProposalEvent.id)).where(
                ProposalEvent.proposal_id == pid, ProposalEvent.to_status == "qualified"
            )
        )
        from portal.cases.models import Case

        cases = db.session.scalar(sa.select(sa.func.count(Case.id)).where(Case.proposal_id == pid))
        result = {
            "supports": n,
            "concurrency": concurrency,
            "seconds": round(elapsed, 2),
            "supports_per_second": round(n / elapsed, 1),
            "status_codes": {str(c): codes.count(c) for c in sorted(set(codes))},
            "rows": rows,
            "count": p.support_count,
            "qualified_events": qualified,
            "cases": cases,
            "invariants_hold": rows == p.support_count == n + 1 and qualified == 1 and cases == 1,
        }
    print(f"  burst: {result}", flush=True)
    return result


def growth(
    small: tuple,
    city: tuple,
    redis_url: str | None,
    *,
    seconds: int,
    connections: int,
    only: list[str] | None = None,
) -> list[dict]:
    """Every route on the small and on the city database, served side by side and measured in
    alternating slices: the ratio of p95 latencies is then the data's doing, not the machine's
    (run one after the other, a slower minute of this machine read as growth of up to 1.7)."""
    (small_app, small_url), (city_app, city_url) = small, city
    fx_small, fx_city = fixtures(small_app), fixtures(city_app)
    out = []
    with (
        gunicorn("wsgi:app", env_for(small_url, redis_url), connections=connections) as (ps, _a),
        gunicorn("wsgi:app", env_for(city_url, redis_url), connections=connections) as (pc, _b),
    ):
        for (name, path_s, headers_s, extra_s), (_name, path_c, headers_c, extra_c) in zip(
            routes(fx_small), routes(fx_city), strict=True
        ):
            if only and not any(o in name for o in only):
                continue
            if not extra_s.get("pairs"):
                wrk(ps, path_s, seconds=1, connections=connections, headers=headers_s)
                wrk(pc, path_c, seconds=1, connections=connections, headers=headers_c)
            a, b = alternating(
                {"port": ps, "path": path_s, "headers": headers_s, "pairs": extra_s.get("pairs")},
                {"port": pc, "path": path_c, "headers": headers_c, "pairs": extra_c.get("pairs")},
                seconds=seconds,
                connections=connections,
            )
            row = {
                "name": name,
                "small": a["p95_ms"],
                "city": b["p95_ms"],
                "ratio": round(b["p95_ms"] / max(a["p95_ms"], 0.01), 2),
                "small_rps": a["rps"],
                "city_rps": b["rps"],
                "errors": a["errors"] + a["non_2xx"] + b["errors"] + b["non_2xx"],
            }
            out.append(row)
            print(
                f"  {name:42s} p95 small {row['small']:6.1f} ms  city {row['city']:6.1f} ms  "
                f"ratio {row['ratio']:.2f}  errors {row['errors']}",
                flush=True,
            )
    return out


async def _fire_supports(port: int, pid: int, tokens: list[str], concurrency: int) -> list[int]:
    """POST one support per token over ``concurrency`` keep-alive connections, at once.

    One thread with asyncio and a minimal HTTP/1.1 exchange: the server's 2 cores are the
    machine's, and 50 client threads with http.client spent them on the GIL instead, holding
    the burst back more than the server did."""
    pending = iter(tokens)
    codes: list[int] = []

    async def connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for token in pending:  # one shared iterator: each token is sent once
                writer.write(
                    f"POST /api/v1/proposals/{pid}/support HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    f"Authorization: Bearer {token}\r\nContent-Length: 0\r\n\r\n".encode()
                )
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head.split(b" ", 2)[1])
                fields = {
                    name.strip().lower(): value.strip()
                    for name, _sep, value in (
                        line.partition(b":") for line in head.split(b"\r\n")[1:] if line
                    )
                }
                await reader.readexactly(int(fields.get(b"content-length", b"0")))
                codes.append(status)
                if fields.get(b"connection", b"").lower() == b"close":
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(concurrency)))
    return codes


def write(kind: str, results: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (RESULTS / f"{stamp}-{kind}.json").write_text(json.dumps(results, indent=2, default=str))
    md = render(kind, results)
    (RESULTS / f"{stamp}-{kind}.md").write_text(md)
    (RESULTS / f"latest-{kind}.md").write_text(md)
    return RESULTS / f"{stamp}-{kind}.md"


def render(kind: str, r: dict) -> str:
    m = r.get("machine") or machine()
    lines = [
        f"# Commons benchmark: {kind}",
        "",
        f"{m['cpus']} CPUs ({m['cpu']}), {m['memory']} memory, Python {m['python']}, "
        f"{m['platform']}. Scale: {r.get('scale', '?')}. "
        f"{r.get('connections', '?')} connections, {r.get('seconds', '?')} s per route.",
        "",
    ]
    for stack, title in (("app", "The app alone"), ("deployed", "The deployed stack")):
        if stack in r.get("stacks", {}):
            lines += [f"## {title}: {STACK_NOTES[stack]}", ""]
            lines += _route_table(r["stacks"][stack])
            lines.append("")
    if "floor" in r:  # results of a run before the two stacks
        lines += _route_table(r)
    if "burst" in r:
        b = r["burst"]
        lines += [
            "",
            f"Burst: {b['supports']} distinct residents over {b['concurrency']} "
            f"connections → {b['supports_per_second']} supports/s; rows {b['rows']}, "
            f"count {b['count']}, qualified {b['qualified_events']}×, cases {b['cases']}; "
            f"invariants hold: {b['invariants_hold']}; responses {b['status_codes']}",
        ]
    if "growth" in r:
        lines += [
            "",
            "| route | p95 small ms | p95 city ms | ratio | req/s small | req/s city |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for g in r["growth"]:
            lines.append(
                f"| {g['name']} | {g['small']} | {g['city']} | {g['ratio']} | "
                f"{g.get('small_rps', '')} | {g.get('city_rps', '')} |"
            )
        lines += [
            "",
            "Both databases are served side by side and each route alternates between them in"
            " 2-second slices, so the machine's drift cancels out of the ratio.",
        ]
    return "\n".join(lines) + "\n"


STACK_NOTES = {
    "app": "gunicorn (2 gthread workers x 4 threads) with nothing in front and the app's cache"
    " off (CACHE_TYPE=NullCache), against a bare Flask route on the same settings.",
    "deployed": "nginx (deploy/nginx/commons.conf: TLS, micro-cache) in front of gunicorn, the"
    " app's cache on Redis; the floor is the bare Flask route behind the same nginx, uncached."
    " Signed-in pages bypass the micro-cache; supports are measured on the app alone.",
}


def _route_table(r: dict) -> list[str]:
    lines: list[str] = []
    f = r["floor"]
    lines += [
        "| route | req/s | floor req/s | ratio to floor | p50 ms | p95 ms | p99 ms | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        f"| bare Flask floor (median; range {f.get('range_rps', [f['rps']] * 2)[0]}–"
        f"{f.get('range_rps', [f['rps']] * 2)[1]}) | {f['rps']} | {f['rps']} | 1.000 | "
        f"{f['p50_ms']} | {f['p95_ms']} | {f['p99_ms']} | {f['errors'] + f['non_2xx']} |",
    ]
    if r.get("one_query_page"):
        a = r["one_query_page"]
        lines.append(
            f"| bare one-query PostgreSQL page (anchor) | {a['rps']} | {a['floor_rps']} | "
            f"{a['ratio']:.3f} | {a['p50_ms']} | {a['p95_ms']} | {a['p99_ms']} | "
            f"{a['errors'] + a['non_2xx']} |"
        )
    for x in r["routes"]:
        lines.append(
            f"| {x['name']} | {x['rps']} | {x.get('floor_rps', f['rps'])} | "
            f"{x['ratio']:.3f} | {x['p50_ms']} | {x['p95_ms']} | {x['p99_ms']} | "
            f"{x['errors'] + x['non_2xx']} |"
        )
    lines += [
        "",
        "Each route's ratio is to the floor measured in alternating 2-second slices with it"
        " (same gunicorn settings, same connections), so drift in the machine's speed"
        " cancels out; p50/p95/p99 are the means over the slices.",
    ]
    if r.get("worker_rss_mb"):
        lines += ["", f"gunicorn worker RSS after the run: {r['worker_rss_mb']} MB"]
    return lines
