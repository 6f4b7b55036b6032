"""200 residents cast and change their ballots at the same moment (real parallel requests;
PostgreSQL with 50 connections in CI, SQLite too, where writers queue on the lock): every
request succeeds, each resident keeps exactly one ballot, and the totals published at closing
equal the ballots that were stored."""

from __future__ import annotations

import hashlib
import random
import secrets
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import sqlalchemy as sa

from portal.extensions import db as _db
from tests.conftest import real_scratch_database

N = 200


def _seed(app) -> tuple[int, list[int], list[tuple[int, str]]]:
    from portal.accounts.models import ApiToken, User
    from portal.core import clock
    from portal.demo import _hash
    from portal.places.services import community_by_code
    from tests.votes.factories import make_vote

    with app.app_context(), app.test_request_context("/"):
        community = community_by_code("110101001001")
        now = clock.now()
        _db.session.execute(
            sa.insert(User),
            [
                {
                    "email": f"voter{i}@example.org",
                    "display_name": f"voter{i}",
                    "password_hash": _hash(),
                    "locale": "zh_Hans",
                    "display_mode": "standard",
                    "session_version": 1,
                    "community_id": community.id,
                    "created_at": now,
                }
                for i in range(N)
            ],
        )
        community.confirmed_residents += N
        ids = _db.session.scalars(
            sa.select(User.id).where(User.email.like("voter%")).order_by(User.id)
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
                    "expires_at": now + timedelta(days=1),
                }
                for uid, t in zip(ids, tokens, strict=True)
            ],
        )
        _db.session.commit()
        vote = make_vote(app, community, options=["东侧", "西侧", "南侧", "都不要"])
        return vote.id, [o.id for o in vote.options], list(zip(ids, tokens, strict=True))


def test_two_hundred_residents_cast_and_change_ballots_at_once(tmp_path_factory):
    with real_scratch_database(tmp_path_factory, "ballots") as url:
        _race(tmp_path_factory, url)


def _race(tmp_path_factory, url: str) -> None:
    from portal.core import clock
    from portal.votes.models import Ballot, Elector, Vote
    from tests.conftest import build_app

    app = build_app(
        tmp_path_factory,
        url,
        RATELIMIT_ENABLED=False,
        SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 50, "max_overflow": 5, "pool_timeout": 60},
    )
    vote_id, options, voters = _seed(app)
    rng = random.Random(15)
    # Each resident sends two ballots at once (a first choice and a change of mind), all
    # mixed together: 400 requests, fired 50 at a time behind a barrier.
    jobs = [(token, rng.choice(options)) for _uid, token in voters for _ in range(2)]
    rng.shuffle(jobs)
    barrier = threading.Barrier(50)

    def fire(index: int, token: str, option: int) -> int:
        if index < 50:
            barrier.wait(timeout=30)
        r = app.test_client().put(
            f"/api/v1/votes/{vote_id}/ballot",
            json={"option": option},
            headers={"Authorization": f"Bearer {token}"},
        )
        return r.status_code

    try:
        with ThreadPoolExecutor(max_workers=50) as pool:
            codes = list(pool.map(lambda job: fire(job[0], *job[1]), enumerate(jobs)))
        assert set(codes) == {200}, Counter(codes)
        sent = {}
        for token, option in jobs:
            sent.setdefault(token, set()).add(option)

        with app.app_context():
            stored = dict(
                _db.session.execute(
                    sa.select(Ballot.user_id, Ballot.option_id).where(Ballot.vote_id == vote_id)
                ).all()
            )
            assert len(stored) == N  # one ballot per resident, whatever the race
            for uid, token in voters:
                assert stored[uid] in sent[token]  # one of the two the resident sent
            voted = _db.session.scalar(
                sa.select(sa.func.count()).where(Elector.vote_id == vote_id, Elector.voted)
            )
            assert voted == N
            expected = Counter(stored.values())
            closes_at = _db.session.get(Vote, vote_id).closes_at
            _db.session.remove()

        clock.freeze(closes_at + timedelta(seconds=1))
        # Many first reads after closing at once: it is finalised exactly once.
        with ThreadPoolExecutor(max_workers=20) as pool:
            reads = list(
                pool.map(
                    lambda _i: app.test_client().get(f"/api/v1/votes/{vote_id}").get_json(),
                    range(20),
                )
            )
        data = reads[0]
        assert all(r["totals"] == data["totals"] for r in reads)
        assert data["state"] == "closed" and data["turnout"] == N
        assert {t["option"]: t["count"] for t in data["totals"]} == {
            o: expected.get(o, 0) for o in options
        }
        with app.app_context():
            assert _db.session.scalar(sa.select(sa.func.count()).select_from(Ballot)) == 0
            from portal.notifications.models import Notification

            told = _db.session.scalar(
                sa.select(sa.func.count(Notification.id)).where(
                    Notification.type == "vote_closed", Notification.subject_id == str(vote_id)
                )
            )
            assert told == data["eligible_count"]
            _db.session.remove()
    finally:
        clock.freeze(None)
        with app.app_context():
            _db.engine.dispose()
