"""200 residents support one proposal at the same moment: every support counts once, the
count equals the rows, and the proposal qualifies exactly once (PostgreSQL with 50 real
connections in CI; SQLite too, where writers queue on the lock instead of failing)."""

from __future__ import annotations

import hashlib
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import sqlalchemy as sa

from portal.cli import file_waiting_cases
from portal.extensions import db as _db
from tests.conftest import real_scratch_database, scratch_database

N = 200
THRESHOLD = 150


def _seed(app) -> tuple[int, list[str]]:
    from portal.accounts.models import ApiToken, User
    from portal.core import clock
    from portal.demo import _hash
    from portal.places.services import community_by_code
    from portal.proposals import services
    from portal.proposals.models import Category
    from tests.conftest import user_by_email

    with app.test_request_context("/"):
        community = community_by_code("110101001001")
        now = clock.now()
        rows = [
            {
                "email": f"racer{i}@example.org",
                "display_name": f"racer{i}",
                "password_hash": _hash(),
                "locale": "zh_Hans",
                "display_mode": "standard",
                "session_version": 1,
                "community_id": community.id,
                "created_at": now,
            }
            for i in range(N + 2)  # two more, whose tokens are revoked and expired
        ]
        _db.session.execute(sa.insert(User), rows)
        community.confirmed_residents += N + 2
        ids = _db.session.scalars(
            sa.select(User.id).where(User.email.like("racer%")).order_by(User.id)
        ).all()
        tokens = [secrets.token_urlsafe(24) for _ in ids]
        _db.session.execute(
            sa.insert(ApiToken),
            [
                {
                    "token_hash": hashlib.sha256(t.encode()).hexdigest(),
                    "user_id": uid,
                    "session_version": 1,
                    "created_at": now,
                    "expires_at": now + timedelta(days=-1 if i == N + 1 else 1),
                    "revoked_at": now if i == N else None,
                }
                for i, (uid, t) in enumerate(zip(ids, tokens, strict=True))
            ],
        )
        category = _db.session.scalar(sa.select(Category).where(Category.code == "safety"))
        p = services.create(
            user_by_email("resident1@example.org"),
            community,
            title="夜间路灯不亮",
            summary="北门路灯坏了",
            body="请修路灯",
            category=category,
            submit=True,
        )
        services.review(user_by_email("committee@example.org"), p, "approve")
        p.threshold = THRESHOLD
        _db.session.commit()
        return p.id, tokens


def test_two_hundred_simultaneous_supports(tmp_path_factory):
    with real_scratch_database(tmp_path_factory, "race") as url:
        _race(tmp_path_factory, url)


def _race(tmp_path_factory, url: str) -> None:
    from portal.proposals.models import Proposal, ProposalEvent, Status, Support
    from portal.proposals.signals import proposal_qualified
    from tests.conftest import build_app

    app = build_app(
        tmp_path_factory,
        url,
        RATELIMIT_ENABLED=False,
        SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 50, "max_overflow": 5, "pool_timeout": 60},
    )
    proposal_id, tokens = _seed(app)
    tokens, invalid = tokens[:N], tokens[N:]
    qualified: list[int] = []
    lock = threading.Lock()

    def hook(p, **_extra):
        with lock:
            qualified.append(p.id)

    proposal_qualified.connect(hook)
    barrier = threading.Barrier(50)

    def fire(token: str, wait: bool) -> int:
        client = app.test_client()
        if wait:
            barrier.wait(timeout=30)
        r = client.post(
            f"/api/v1/proposals/{proposal_id}/support",
            headers={"Authorization": f"Bearer {token}"},
        )
        return r.status_code

    try:
        jobs = [(t, i < 50) for i, t in enumerate(tokens)] + [(t, False) for t in tokens[:10]]
        with ThreadPoolExecutor(max_workers=50) as pool:
            codes = list(pool.map(lambda job: fire(*job), jobs))
    finally:
        proposal_qualified.disconnect(hook)

    # A revoked and an expired token sign no one in, on the path that checks the token inside
    # the support's statement (rate limits off) as on every other.
    for token in invalid:
        r = app.test_client().post(
            f"/api/v1/proposals/{proposal_id}/support",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert r.status_code == 401 and r.get_json()["error"]["code"] == "invalid_token"
    assert set(codes) <= {201, 409}, sorted(set(codes))  # never a 500
    # Every resident is counted once; of a resident's two attempts, one is refused.
    assert codes[10:N].count(201) == N - 10
    for first, repeat in zip(codes[:10], codes[N:], strict=True):
        assert sorted((first, repeat)) == [201, 409]
    with app.app_context():
        p = _db.session.get(Proposal, proposal_id)
        rows = _db.session.scalar(
            sa.select(sa.func.count(Support.id)).where(Support.proposal_id == proposal_id)
        )
        events = _db.session.scalar(
            sa.select(sa.func.count(ProposalEvent.id)).where(
                ProposalEvent.proposal_id == proposal_id, ProposalEvent.to_status == "qualified"
            )
        )
        assert rows == p.support_count == N + 1  # with the author's
        assert p.status == Status.qualified and events == 1
        _db.session.remove()
        _db.engine.dispose()
    assert qualified == [proposal_id]


def test_the_one_statement_support_gives_its_connection_back_as_it_took_it(tmp_path_factory):
    """The support that checks its token in its own statement runs through SQLAlchemy in the
    request's one transaction; the pool gets its connection back out of autocommit, so the
    next request's writes are still one transaction (PostgreSQL; one connection in the pool,
    so it is the same one)."""
    import os

    import pytest

    if not os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("the one-statement support is PostgreSQL's")
    from portal.proposals.models import Proposal
    from tests.conftest import build_app, real_session

    url, drop = scratch_database(tmp_path_factory, "alone")
    try:
        with real_session():
            app = build_app(
                tmp_path_factory,
                url,
                RATELIMIT_ENABLED=False,
                SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0},
            )
            proposal_id, tokens = _seed(app)
            seen: list[str] = []
            with app.app_context():
                engine = _db.engine
            listen = lambda _c, _cur, statement, *_a: seen.append(statement)  # noqa: E731
            sa.event.listen(engine, "before_cursor_execute", listen)
            try:
                r = app.test_client().post(
                    f"/api/v1/proposals/{proposal_id}/support",
                    headers={"Authorization": f"Bearer {tokens[0]}"},
                )
            finally:
                sa.event.remove(engine, "before_cursor_execute", listen)
            assert r.status_code == 201 and r.get_json()["support_count"] == 2
            # One statement, through SQLAlchemy (its events see it), committed with the request.
            assert len([s for s in seen if "INSERT INTO supports" in s]) == 1, seen
            with app.app_context():
                raw = engine.raw_connection()
                try:
                    assert raw.driver_connection.autocommit is False
                finally:
                    raw.close()
                # A write rolled back is undone: the connection is in a transaction again.
                _db.session.execute(
                    sa.update(Proposal).where(Proposal.id == proposal_id).values(support_count=0)
                )
                _db.session.rollback()
                assert _db.session.get(Proposal, proposal_id).support_count == 2
                _db.session.remove()
                _db.engine.dispose()
    finally:
        drop()


def test_supports_racing_past_the_threshold_with_no_routing_rule(tmp_path_factory):
    """Forty residents support at the same moment across a threshold of twenty, and no agency
    covers the proposal: every support is stored and counted once, the proposal is qualified
    once and waits to be filed once (the support that reached the threshold and those racing
    past it take the same path), and once a routing rule exists the sweep files one case."""
    with real_scratch_database(tmp_path_factory, "noroute") as url:
        _race_without_route(tmp_path_factory, url)


def _race_without_route(tmp_path_factory, url: str) -> None:
    from portal.cases import services as cases
    from portal.cases.models import Case, RoutingRule
    from portal.notifications.models import Notification
    from portal.proposals.models import Proposal, ProposalEvent, Status, Support
    from portal.roles.models import Agency
    from tests.conftest import build_app

    racers = 40
    app = build_app(
        tmp_path_factory,
        url,
        RATELIMIT_ENABLED=False,
        SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 45, "max_overflow": 5, "pool_timeout": 60},
    )
    proposal_id, tokens = _seed(app)
    with app.app_context():
        _db.session.execute(sa.delete(RoutingRule))
        _db.session.execute(
            sa.update(Proposal).where(Proposal.id == proposal_id).values(threshold=20)
        )
        _db.session.commit()
    barrier = threading.Barrier(racers)

    def fire(i: int) -> int:
        client = app.test_client()
        barrier.wait(timeout=30)
        r = client.post(
            f"/api/v1/proposals/{proposal_id}/support",
            headers={"Authorization": f"Bearer {tokens[i]}"},
        )
        return r.status_code

    with ThreadPoolExecutor(max_workers=racers) as pool:
        codes = list(pool.map(fire, range(racers)))
    assert codes == [201] * racers, codes  # never a 500, never a support refused

    def state():
        with app.app_context():
            p = _db.session.get(Proposal, proposal_id)
            rows = _db.session.scalar(
                sa.select(sa.func.count(Support.id)).where(Support.proposal_id == proposal_id)
            )
            events = _db.session.scalar(
                sa.select(sa.func.count(ProposalEvent.id)).where(
                    ProposalEvent.proposal_id == proposal_id,
                    ProposalEvent.to_status == "qualified",
                )
            )
            told = _db.session.scalars(
                sa.select(Notification.user_id).where(
                    Notification.type == "proposal_filing_failed",
                    Notification.subject_id == str(proposal_id),
                )
            ).all()
            filed = _db.session.scalar(
                sa.select(sa.func.count(Case.id)).where(Case.proposal_id == proposal_id)
            )
            out = (p.status, p.support_count, rows, events, p.filing_pending_since, told, filed)
            _db.session.remove()
            return out

    status, count, rows, events, pending, told, filed = state()
    assert rows == count == racers + 1  # with the author's
    assert status == Status.qualified and events == 1
    assert pending is not None and filed == 0
    assert told and len(told) == len(set(told))  # the staff are told once

    # The sweep's retry (the test app's context: the CLI runner would take the session app's).
    # A POST's context: one transaction, as the CLI's (a GET's reads lock nothing).
    with app.test_request_context("/", method="POST"):
        assert file_waiting_cases() == (0, 1)
        _db.session.remove()
    with app.test_request_context("/"):
        p = _db.session.get(Proposal, proposal_id)
        agency = _db.session.scalars(sa.select(Agency).order_by(Agency.id)).first()
        cases.set_rule(None, None, p.community.street.district, agency)
        _db.session.commit()
        _db.session.remove()
    # Two sweeps at once (cron overlapping): one files, the other finds nothing waiting.
    sweeps = threading.Barrier(2)

    def retry(_):
        with app.test_request_context("/", method="POST"):
            sweeps.wait(timeout=30)
            try:
                return file_waiting_cases()
            finally:
                _db.session.remove()

    with ThreadPoolExecutor(max_workers=2) as pool:
        outs = list(pool.map(retry, [0, 1]))
    assert sorted(outs) == [(0, 0), (1, 0)], outs
    status, count, rows, events, pending, told, filed = state()
    assert pending is None and filed == 1 and status == Status.qualified
    with app.app_context():
        _db.session.remove()
        _db.engine.dispose()
