"""python -m bench {seed,run,burst,growth,all,exports,profile} [--scale small|city]
[--stack app|deployed|both] [--seconds N] ..."""

from __future__ import annotations

import argparse
import os

import sqlalchemy as sa

from bench import run as runner
from bench.seed import SCALES, log, seed

SOCKET_DIR = "/var/run/postgresql"
TCP = "postgresql+psycopg://postgres@127.0.0.1:5432"
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


def _server() -> str:
    """Where the benchmark reaches PostgreSQL (``BENCH_PG``, without a database): as a server
    on the same machine is reached in production (``deploy/commons.env.example``), through its
    Unix socket, when one answers here; else over TCP on 127.0.0.1:5432. On this machine a
    round trip costs about 0.23 ms through the socket and 0.4 ms over TCP."""
    chosen = os.environ.get("BENCH_PG")
    if chosen:
        return chosen
    if os.path.exists(os.path.join(SOCKET_DIR, ".s.PGSQL.5432")):
        socket = f"postgresql+psycopg://postgres@/postgres?host={SOCKET_DIR}"
        try:
            sa.create_engine(socket, poolclass=sa.pool.NullPool).connect().close()
        except sa.exc.OperationalError:  # the socket asks for another authentication
            return TCP
        return socket
    return TCP


PG = _server()


def db_url(scale: str, database: str | None = None) -> str:
    """The URL of the benchmark's database at ``scale`` (or of ``database``) on ``PG``;
    ``BENCH_DB_SUFFIX`` gives each checkout a database of its own (``…_small_mine``)."""
    name = database or f"commons_bench_{scale}{os.environ.get('BENCH_DB_SUFFIX', '')}"
    return sa.engine.make_url(PG).set(database=name).render_as_string(hide_password=False)


def app_for(url: str):
    from portal import create_app

    return create_app(
        {
            "COMMONS_ENV": "production",
            "SECRET_KEY": runner.SECRET,
            "PUBLIC_URL": "http://127.0.0.1",
            "SQLALCHEMY_DATABASE_URI": url,
            "RATELIMIT_ENABLED": False,
            # The seeded residents have email accounts, no numbers: both ways, as development.
            "SIGN_IN_METHODS": "phone,email",
        }
    )


def prepare(scale: str, reseed: bool) -> str:
    url = db_url(scale)
    name = sa.engine.make_url(url).database
    admin = sa.create_engine(db_url(scale, "postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(
            sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
        ).scalar()
        if exists and reseed:
            conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            exists = False
        if not exists:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    app = app_for(url)
    from flask_migrate import upgrade

    from portal.demo import load_demo
    from portal.extensions import db

    with app.app_context():
        upgrade()
        seeded = db.session.execute(
            sa.text("SELECT count(*) FROM districts WHERE code LIKE '12%'")
        ).scalar()
        if seeded:
            log(f"{name} already seeded (use --reseed to start over)")
            db.engine.dispose()
            return url
        load_demo()
        db.session.commit()
        db.engine.dispose()
    seed(app, scale)
    return url


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m bench")
    ap.add_argument(
        "command", choices=["seed", "run", "burst", "growth", "all", "exports", "profile"]
    )
    ap.add_argument("--scale", choices=sorted(SCALES), default="small")
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--burst", type=int, default=2000)
    ap.add_argument("--reseed", action="store_true")
    ap.add_argument(
        "--stack",
        choices=["app", "deployed", "both"],
        default="both",
        help="the app alone (gunicorn, app cache off), the deployed stack (nginx), or both",
    )
    ap.add_argument("--only", nargs="*", help="measure only routes whose name contains these")
    ap.add_argument("--requests", type=int, default=20, help="profile: requests per route")
    ap.add_argument("--top", type=int, default=0, help="profile: heaviest functions per route")
    args = ap.parse_args()
    redis = REDIS or None
    if args.command == "seed":
        prepare(args.scale, args.reseed)
        return
    if args.command in ("run", "all"):
        url = prepare(args.scale, args.reseed)
        results = runner.run_routes(
            app_for(url),
            url,
            redis,
            seconds=args.seconds,
            connections=args.connections,
            only=args.only,
            stacks=runner.STACKS if args.stack == "both" else (args.stack,),
        )
        results["scale"] = args.scale
        if args.command == "all":
            results["burst"] = runner.burst(app_for(url), url, redis, n=args.burst)
        print(runner.write(f"run-{args.scale}", results).read_text())
    if args.command == "burst":
        url = prepare(args.scale, args.reseed)
        results = {
            "scale": args.scale,
            "burst": runner.burst(app_for(url), url, redis, n=args.burst),
        }
        print(runner.write(f"burst-{args.scale}", results).read_text())
    if args.command == "exports":
        from bench import exports

        url = prepare(args.scale, args.reseed)
        results = exports.measure(url, redis)
        results["scale"] = args.scale
        path = runner.write(f"exports-{args.scale}", results)
        md = exports.render(results)
        for target in (path, path.parent / f"latest-exports-{args.scale}.md"):
            target.write_text(md, encoding="utf-8")
        print(md)
    if args.command == "profile":
        from bench import profile

        os.environ["CACHE_TYPE"] = "NullCache"  # the app alone: rendering, not a cache
        url = prepare(args.scale, args.reseed)
        rows = profile.profile(app_for(url), requests=args.requests, only=args.only, top=args.top)
        print(profile.render(rows))
        failed = [r["route"] for r in rows if r["status"] != 200]
        if failed:
            raise SystemExit(f"not 200: {', '.join(failed)}")
    if args.command == "growth":
        small, city = prepare("small", False), prepare("city", False)
        growth = runner.growth(
            (app_for(small), small),
            (app_for(city), city),
            redis,
            seconds=args.seconds,
            connections=args.connections,
            only=args.only,
        )
        results = {
            "scale": "small vs city",
            "growth": growth,
            "machine": runner.machine(),
            "connections": args.connections,
            "seconds": args.seconds,
        }
        print(runner.write("growth", results).read_text())


if __name__ == "__main__":
    main()
