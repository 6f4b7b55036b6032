"""Staff work lists are kept per session while nothing they show has changed (PostgreSQL)."""

from __future__ import annotations

import os
import re

import pytest
import sqlalchemy as sa

from portal.extensions import db as _db
from tests.conftest import DEMO_PASSWORD, build_app, real_session, scratch_database

PAGE = "/workspace/agency/health-commission?tab=all"


@pytest.fixture
def cached_app(tmp_path_factory):
    if not os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("the signed-in page cache is PostgreSQL's (a sequence shared by workers)")
    url, drop = scratch_database(tmp_path_factory, "private")
    try:
        with real_session():
            app = build_app(tmp_path_factory, url, PRIVATE_PAGE_CACHE_SECONDS=30)
            yield app
            with app.app_context():
                _db.engine.dispose()
    finally:
        drop()


def _sign_in(app, email: str):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    r = client.post("/login", data={"csrf_token": token, "email": email, "password": DEMO_PASSWORD})
    assert r.status_code == 302
    return client


def _settle(client, path=PAGE):
    """Load until a copy is stored (the first load after signing in shows the welcome)."""
    for _ in range(3):
        r = client.get(path)
        if r.headers.get("X-Page-Cache") == "private-miss":
            return r
    raise AssertionError("the page was never stored")


def _commit(app, fn):
    with app.test_request_context("/"):
        fn()
        _db.session.commit()


def test_a_staff_list_is_served_again_until_something_changes(cached_app):
    app = cached_app
    liaison = _sign_in(app, "liaison.health-commission@example.org")
    first = _settle(liaison)
    seen: list[str] = []
    listen = lambda _c, _cur, statement, *_a: seen.append(statement)  # noqa: E731
    with app.app_context():
        engine = _db.engine
    from portal.accounts import auth

    alone: list[str] = []
    run_alone = auth.run_alone

    def counted(engine, statement, params):
        alone.append(str(statement))
        return run_alone(engine, statement, params)

    auth.run_alone = counted
    sa.event.listen(engine, "before_cursor_execute", listen)
    try:
        again = liaison.get(PAGE)
    finally:
        sa.event.remove(engine, "before_cursor_execute", listen)
        auth.run_alone = run_alone
    assert again.headers["X-Page-Cache"] == "private-hit"
    # A copy costs the sign-in query alone (session, user and generation in one round trip,
    # read by the driver on a connection of its own): the session never starts.
    assert seen == [], seen
    assert len(alone) == 1 and "user_sessions" in alone[0], alone
    assert again.get_data() == first.get_data()
    assert again.headers["Cache-Control"] == "no-store"  # never kept by the browser
    assert "Content-Security-Policy" in again.headers

    # Another session of the same person has its own copies (its own form tokens).
    other = _sign_in(app, "liaison.health-commission@example.org")
    assert _settle(other).status_code == 200

    # A change anywhere (here the agency's name, committed by this process) empties the cache.
    from portal.roles.models import Agency

    def rename():
        agency = _db.session.scalar(sa.select(Agency).where(Agency.code == "health-commission"))
        agency.name_zh = "卫健委（改名）"

    _commit(app, rename)
    fresh = liaison.get(PAGE)
    assert fresh.headers["X-Page-Cache"] == "private-miss"
    assert "卫健委（改名）" in fresh.get_data(as_text=True)
    assert liaison.get(PAGE).headers["X-Page-Cache"] == "private-hit"

    # ... and so does a change committed by another process: the sequence is shared.
    with app.app_context(), _db.engine.connect() as conn:
        conn.execute(sa.text("SELECT nextval('commons_page_generation')"))
        conn.commit()
    assert liaison.get(PAGE).headers["X-Page-Cache"] == "private-miss"

    # Quiet writes do not: a support and its count are not on these pages.
    from portal.proposals.models import Proposal

    def count_a_support():
        _db.session.execute(
            sa.update(Proposal)
            .where(Proposal.id == 1)
            .values(support_count=Proposal.support_count + 1)
        )

    _commit(app, count_a_support)
    assert liaison.get(PAGE).headers["X-Page-Cache"] == "private-hit"


def test_what_is_personal_or_pending_is_never_served_from_a_copy(cached_app):
    app = cached_app
    liaison = _sign_in(app, "liaison.health-commission@example.org")
    _settle(liaison)
    # A new notification changes the unread count in the header: another copy.
    from portal.accounts.models import User
    from portal.notifications.services import notify

    def notify_liaison():
        user = _db.session.scalar(
            sa.select(User).where(User.email == "liaison.health-commission@example.org")
        )
        notify([user.id], "proposal_qualified", None, url="/", params={"title": "x"})

    _commit(app, notify_liaison)
    badge = liaison.get(PAGE)
    assert badge.headers["X-Page-Cache"] == "private-miss"
    assert 'class="badge">1<' in badge.get_data(as_text=True)

    # A message waiting to be shown: the page is rendered for it.
    with liaison.session_transaction() as s:
        s["_flashes"] = [("info", "Accepted C-1.")]
    flashed = liaison.get(PAGE)
    assert "X-Page-Cache" not in flashed.headers and "Accepted C-1." in flashed.get_data(
        as_text=True
    )

    # A revoked session gets the sign-in page, never a copy.
    assert liaison.get(PAGE).headers["X-Page-Cache"] in ("private-miss", "private-hit")
    from portal.accounts.models import UserSession

    def revoke():
        _db.session.execute(sa.update(UserSession).values(revoked_at=sa.func.now()))

    _commit(app, revoke)
    out = liaison.get(PAGE)
    assert out.status_code == 302 and "/login" in out.headers["Location"]

    # Pages outside the list, and the API, are never kept.
    resident = _sign_in(app, "resident1@example.org")
    assert "X-Page-Cache" not in resident.get("/account").headers


def test_a_copy_keeps_the_session_alive_and_an_idle_session_gets_none(cached_app):
    """Serving a copy notes the session's use as the sign-in does (once a minute), so an
    active staff member is never timed out; a session idle too long gets the sign-in page."""
    from datetime import timedelta

    from portal.accounts.models import UserSession
    from portal.core import clock

    app = cached_app
    liaison = _sign_in(app, "liaison.health-commission@example.org")
    _settle(liaison)
    two_minutes_ago = clock.now() - timedelta(minutes=2)

    def age(when):
        return lambda: _db.session.execute(sa.update(UserSession).values(last_seen_at=when))

    def last_seen():
        with app.app_context():
            return _db.session.scalar(sa.select(sa.func.max(UserSession.last_seen_at)))

    _commit(app, age(two_minutes_ago))
    assert liaison.get(PAGE).headers["X-Page-Cache"] == "private-hit"
    assert last_seen() > two_minutes_ago + timedelta(minutes=1)

    idle = timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] + 1)
    _commit(app, age(clock.now() - idle))
    out = liaison.get(PAGE)
    assert out.status_code == 302 and "/login" in out.headers["Location"]
