"""Shared fixtures: the app (schema built by migrations), per-test rollback, clients, factories.

Runs on SQLite by default; set TEST_DATABASE_URL=postgresql+psycopg://... for PostgreSQL.
"""

from __future__ import annotations

import itertools
import os
import re
import secrets
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, scoped_session, sessionmaker

from portal import create_app
from portal.core import clock
from portal.extensions import cache, limiter
from portal.extensions import db as _db
from tests.openapi_check import check_response

# Generated strings carry markup and quotes, so every page test also proves escaping.
NASTY = "<script>alert(1)</script>\"'"
_seq = itertools.count(1)


def pg_url() -> str | None:
    return os.environ.get("TEST_DATABASE_URL") or None


def reset_postgres(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


@contextmanager
def real_session():
    """Inside a test, ``db.session`` is bound to the test's rolled-back connection; a second
    app (or threads doing real work) needs Flask-SQLAlchemy's own sessions back meanwhile."""
    from portal.core.database import Session as AppSession

    saved = _db.session
    _db.session = _db._make_scoped_session({"class_": AppSession})
    try:
        yield
    finally:
        _db.session.remove()
        _db.session = saved


def scratch_database(tmp_path_factory, suffix: str) -> tuple[str, callable]:
    """A fresh database of its own (TEST_DATABASE_URL's name plus ``suffix``, or a new SQLite
    file) for tests that need real connections and commits, and the function that drops it."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        path = tmp_path_factory.mktemp(suffix) / f"{suffix}.sqlite3"
        return f"sqlite:///{path}", lambda: None
    url = sa.engine.make_url(base)
    name = f"{url.database}_{suffix}"
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop


@contextmanager
def real_scratch_database(tmp_path_factory, suffix: str):
    """A scratch database (``scratch_database``) with Flask-SQLAlchemy's own sessions
    (``real_session``), for tests that race real requests; dropped afterwards, and the rate
    limits those requests spent forgotten."""
    url, drop = scratch_database(tmp_path_factory, suffix)
    try:
        with real_session():
            yield url
    finally:
        drop()
        limiter.reset()


def build_app(tmp_path_factory, url: str | None = None, **overrides):
    """An app on a fresh database built by the migrations, with the demo data loaded.

    ``url`` defaults to TEST_DATABASE_URL (whose schema is reset) or a new SQLite file."""
    url = url or pg_url()
    if url and url.startswith("postgresql"):
        reset_postgres(url)
    elif not url:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    config = {
        # As production runs: the app's cache on Redis where there is one (CI on PostgreSQL),
        # under a prefix of this run's own; none (NullCache) otherwise.
        "COMMONS_ENV": "testing",
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "test-secret-" + secrets.token_hex(8),
        "RATELIMIT_STORAGE_URI": "memory://",
        "SERVER_NAME": None,
        # As production runs where there is Redis (CI on PostgreSQL): the app's cache and the
        # rate limits on Redis, under a prefix of this run's own; otherwise no app cache
        # (NullCache) and limits in memory.
        **(
            {
                "CACHE_TYPE": "RedisCache",
                "CACHE_REDIS_URL": os.environ["TEST_REDIS_URL"],
                "CACHE_KEY_PREFIX": f"commons-test-{secrets.token_hex(4)}:",
                "RATELIMIT_STORAGE_URI": os.environ["TEST_REDIS_URL"],
                "RATELIMIT_KEY_PREFIX": f"commons-test-{secrets.token_hex(4)}",
            }
            if os.environ.get("TEST_REDIS_URL")
            else {}
        ),
        "MAIL_ECHO": False,
        **overrides,
    }
    app = create_app(config)
    with app.app_context(), real_session():
        from flask_migrate import upgrade

        upgrade()
        from portal.demo import load_demo

        load_demo()
        _db.session.commit()
    return app


class ApiCheckingClient(FlaskClient):
    """A test client that checks API responses against the OpenAPI document, and can post forms
    with a CSRF token taken from a page, as a browser would."""

    def open(self, *args, **kwargs):
        # The test holds one app context for its whole run, and requests reuse it; start each
        # request as a fresh one would: empty ``g`` (Flask-Login caches the user there) and
        # nothing stale in the session's identity map.
        from flask import g

        if g:
            g.__dict__.clear()
        _db.session.expire_all()
        response = super().open(*args, **kwargs)
        if g:
            g.__dict__.clear()
        request = getattr(response, "request", None)
        if request is not None and request.path.startswith("/api/v1/"):
            payload = response.get_json(silent=True)
            check_response(
                request.method,
                request.path,
                response.status_code,
                response.content_type or "",
                payload,
            )
        return response

    def csrf_token(self, page: str = "/") -> str:
        html = self.get(page).get_data(as_text=True)
        match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
        assert match, f"no CSRF token on {page}"
        return match.group(1)

    def form(self, url: str, data: dict | None = None, page: str | None = None, **kwargs):
        """POST a form the way a browser does: with the CSRF token of the page it came from."""
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf_token(page or urlsplit(url).path))
        return self.post(url, data=data, **kwargs)


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    app = build_app(tmp_path_factory)
    app.test_client_class = ApiCheckingClient
    yield app
    with app.app_context():
        _db.engine.dispose()


@pytest.fixture(autouse=True)
def db(app):
    """Every test runs inside a transaction that is rolled back afterwards; the code under test
    may commit freely (its commits release savepoints)."""
    with app.app_context():
        connection = _db.engine.connect()
        outer = connection.begin()
        original = _db.session
        factory = sessionmaker(
            bind=connection, class_=Session, join_transaction_mode="create_savepoint"
        )
        from flask_sqlalchemy.session import _app_ctx_id

        _db.session = scoped_session(factory, scopefunc=_app_ctx_id)
        try:
            yield _db
        finally:
            _db.session.remove()
            _db.session = original
            if outer.is_active:
                outer.rollback()
            connection.close()
            # Tests that build a second app re-initialise the shared limiter; bind it back.
            limiter.init_app(app)
            limiter.reset()
            clock.freeze(None)
            cache.clear()  # nothing of a rolled-back test stays cached (a city's time zone)


@pytest.fixture
def client(app) -> ApiCheckingClient:
    return app.test_client()


@pytest.fixture
def anon(app) -> ApiCheckingClient:
    return app.test_client()


def user_by_email(email: str):
    from portal.accounts.services import find_by_email

    user = find_by_email(email)
    assert user is not None, email
    return user


DEMO = {
    "admin": "admin@example.org",
    "committee": "committee@example.org",
    "committee_b": "committee.b@example.org",
    "grid_worker": "gridworker@example.org",
    "supervisor": "supervisor@example.org",
    "liaison": "liaison.health-commission@example.org",
    "resident": "resident1@example.org",
    "resident2": "resident2@example.org",
    "resident_b": "resident.b@example.org",
}


@pytest.fixture
def login_as(app, client):
    """login_as("committee") or login_as(user): signs the client in with a real session row
    that has passed the staff second step and confirmed who it is a moment ago (the
    re-authentication before sensitive changes); ``second_factor=False`` or ``fresh=False``
    leave either out."""

    def _login(
        who, c: ApiCheckingClient | None = None, *, second_factor: bool = True, fresh: bool = True
    ):
        from portal.accounts.services import start_session

        c = c or client
        user = user_by_email(DEMO.get(who, who)) if isinstance(who, str) else who
        row = start_session(user, second_factor=second_factor)
        _db.session.commit()
        with c.session_transaction() as s:
            s.clear()
            s["sid"] = row.id
            s["_user_id"] = str(user.id)
            s["_fresh"] = True
            if fresh:
                s["reauth_at"] = int(clock.now().timestamp())
        return user

    return _login


@pytest.fixture
def make_user(db):
    """A new account (no residency, no roles) with a display name full of markup."""
    from portal.accounts.models import User
    from portal.demo import _hash

    def _make(
        email: str | None = None,
        name: str | None = None,
        locale: str = "zh_Hans",
        confirmed_email: bool = True,
        community=None,
    ):
        n = next(_seq)
        user = User(
            email=email or f"user{n}@example.org",
            display_name=name or f"{NASTY[:30]}{n}",
            locale=locale,
            password_hash=_hash(),
            email_confirmed_at=clock.now() if confirmed_email else None,
        )
        db.session.add(user)
        db.session.flush()
        if community is not None:
            from portal.residency.services import _move_resident

            _move_resident(user, community)
        db.session.commit()
        return user

    return _make


@pytest.fixture
def community(db):
    from portal.places.services import community_by_code

    return community_by_code("110101001001")


@pytest.fixture
def community_b(db):
    from portal.places.services import community_by_code

    return community_by_code("110101001002")


@pytest.fixture
def api_token(app, db):
    """api_token("resident") → headers with a fresh bearer token for that demo user."""

    def _token(who) -> dict:
        from portal.accounts.services import issue_token

        user = user_by_email(DEMO.get(who, who)) if isinstance(who, str) else who
        raw, _t = issue_token(user, second_factor=True)  # as if it came with its otp
        db.session.commit()
        return {"Authorization": f"Bearer {raw}"}

    return _token


DEMO_PASSWORD = "commons-demo-2026"


def answer_second_step(client, response):
    """After the sign-in form: a staff account's second step, answered with the demo's
    authenticator code (each test's rollback forgets the step it took); other answers pass
    through unchanged."""
    if response.status_code != 302 or not response.headers["Location"].endswith(
        "/login/two-factor"
    ):
        return response
    from portal.accounts.mfa import _TOTP
    from portal.demo import DEMO_TOTP_SECRET

    code = _TOTP(DEMO_TOTP_SECRET).at(clock.now().timestamp())
    return client.form("/login/two-factor", {"code": code})


@pytest.fixture
def count_queries(app):
    """with count_queries() as q: ... ; q.count is the number of SQL statements run (not
    counting the savepoints by which each test's commits stay inside its transaction)."""

    class Counter:
        count = 0

    @contextmanager
    def _count():
        counter = Counter()

        def before(_conn, _cursor, statement, *_args, **_kwargs):
            if not statement.startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO")):
                counter.count += 1

        engine = _db.engine
        sa.event.listen(engine, "before_cursor_execute", before)
        try:
            yield counter
        finally:
            sa.event.remove(engine, "before_cursor_execute", before)

    return _count
