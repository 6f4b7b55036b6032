"""Twelve proposals qualify at the same moment, filing twelve cases of one community, day,
category and agency: every one of them lands in the same rows of the rollup, and the
sums still equal a rebuild from the history (atomic increments; real connections and real
commits, PostgreSQL in CI)."""

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


def test_simultaneous_cases_add_up_in_the_daily_sums(tmp_path_factory):
    with real_scratch_database(tmp_path_factory, "dashrace") as url:
        _run(tmp_path_factory, url)


def _sums():
    from portal.transparency.dashboard.models import DashboardRollup as D

    return sorted(
        _db.session.execute(
            sa.select(
                D.scope,
                D.scope_id,
                D.split,
                D.grain,
                D.period,
                D.kind,
                D.outcome,
                D.split_id,
                D.bucket,
                D.n,
                D.answers,
                D.satisfied,
            ).where(D.n != 0)
        ).all()
    )


def _run(tmp_path_factory, url: str) -> None:
    from portal.accounts.models import ApiToken
    from portal.core import clock
    from portal.places.services import community_by_code
    from portal.proposals import services
    from portal.proposals.models import Category
    from portal.transparency.dashboard import rollup
    from portal.transparency.dashboard.models import DashboardRollup as D
    from tests.conftest import build_app, user_by_email

    app = build_app(
        tmp_path_factory,
        url,
        RATELIMIT_ENABLED=False,
        SQLALCHEMY_ENGINE_OPTIONS={"pool_size": K + 2, "max_overflow": 5},
    )
    with app.test_request_context("/"):
        community = community_by_code("110101001001")
        category = _db.session.scalar(sa.select(Category).where(Category.code == "environment"))
        ids = []
        for i in range(K):
            p = services.create(
                user_by_email("resident1@example.org"),
                community,
                title=f"垃圾分类点{i}",
                summary="需要清理",
                body="请处理",
                category=category,
                submit=True,
            )
            services.review(user_by_email("committee@example.org"), p, "approve")
            p.threshold = 2
            ids.append(p.id)
        supporter = user_by_email("resident2@example.org")
        raw = secrets.token_urlsafe(24)
        _db.session.add(
            ApiToken(
                token_hash=hashlib.sha256(raw.encode()).hexdigest(),
                user_id=supporter.id,
                session_version=1,
                expires_at=clock.now() + timedelta(days=1),
            )
        )
        _db.session.commit()
        before = _db.session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(D.n), 0)).where(
                D.kind == "opened", D.scope == "city", D.split == "", D.grain == "d"
            )
        )

    barrier = threading.Barrier(K)

    def fire(proposal_id: int) -> int:
        client = app.test_client()
        barrier.wait(timeout=30)
        return client.post(
            f"/api/v1/proposals/{proposal_id}/support", headers={"Authorization": f"Bearer {raw}"}
        ).status_code

    with ThreadPoolExecutor(max_workers=K) as pool:
        codes = list(pool.map(fire, ids))
    assert codes == [201] * K
    with app.test_request_context("/"):
        opened = _db.session.scalar(
            sa.select(sa.func.sum(D.n)).where(
                D.kind == "opened", D.scope == "city", D.split == "", D.grain == "d"
            )
        )
        assert opened - before == K
        incremental = _sums()
        rollup.rebuild_start()
        rollup.refresh(rollup.all_proposal_ids())
        _db.session.commit()
        assert _sums() == incremental
        _db.session.remove()
        _db.engine.dispose()
