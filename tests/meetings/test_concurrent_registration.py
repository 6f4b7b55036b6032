"""Twelve residents register at once for a meeting with three places: exactly three get a
place and the nine others are waitlisted 1..9, none twice (real connections and commits;
PostgreSQL in CI). The meeting's row lock puts the counting of places in a row."""

from __future__ import annotations

import hashlib
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import sqlalchemy as sa

from portal.extensions import db as _db
from tests.conftest import real_scratch_database

K = 12
CAPACITY = 3


def test_simultaneous_registrations_respect_the_capacity(tmp_path_factory):
    with real_scratch_database(tmp_path_factory, "meetrace") as url:
        _run(tmp_path_factory, url)


def _run(tmp_path_factory, url: str) -> None:
    from portal.accounts.models import ApiToken, User
    from portal.core import clock
    from portal.demo import _hash
    from portal.meetings import services as meetings
    from portal.meetings.models import Registration
    from portal.places.services import community_by_code
    from tests.conftest import build_app, user_by_email

    app = build_app(
        tmp_path_factory,
        url,
        RATELIMIT_ENABLED=False,
        SQLALCHEMY_ENGINE_OPTIONS={"pool_size": K + 2, "max_overflow": 5},
    )
    with app.test_request_context("/"):
        community = community_by_code("110101001001")
        committee = user_by_email("committee@example.org")
        start = clock.now() + timedelta(days=5)
        m = meetings.create_meeting(
            committee,
            community,
            meetings.Details(
                "议事会", "", start, start + timedelta(hours=1), "活动室", "", CAPACITY
            ),
        )
        meetings.add_item(committee, m, topic="停车")
        meetings.publish(committee, m)
        tokens = []
        for i in range(K):
            user = User(
                email=f"racer{i}@example.org",
                display_name=f"racer{i}",
                password_hash=_hash(),
                email_confirmed_at=clock.now(),
            )
            _db.session.add(user)
            _db.session.flush()
            raw = secrets.token_urlsafe(24)
            _db.session.add(
                ApiToken(
                    token_hash=hashlib.sha256(raw.encode()).hexdigest(),
                    user_id=user.id,
                    session_version=1,
                    expires_at=clock.now() + timedelta(days=1),
                )
            )
            tokens.append(raw)
        meeting_id = m.id
        _db.session.commit()

    barrier = threading.Barrier(K)

    def fire(raw: str) -> int:
        client = app.test_client()
        barrier.wait(timeout=30)
        return client.post(
            f"/api/v1/meetings/{meeting_id}/registration",
            headers={"Authorization": f"Bearer {raw}"},
        ).status_code

    with ThreadPoolExecutor(max_workers=K) as pool:
        codes = list(pool.map(fire, tokens))
    assert codes == [201] * K
    with app.app_context():
        rows = _db.session.execute(
            sa.select(Registration.state, Registration.waitlist_position).where(
                Registration.meeting_id == meeting_id
            )
        ).all()
        _db.session.remove()
        _db.engine.dispose()
    assert sorted(s for s, _p in rows) == ["registered"] * CAPACITY + ["waitlisted"] * (
        K - CAPACITY
    )
    assert sorted(p for _s, p in rows if p is not None) == list(range(1, K - CAPACITY + 1))
