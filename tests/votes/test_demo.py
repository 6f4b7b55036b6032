"""The demo's votes: one closed with its results on a past meeting, one open now."""

from __future__ import annotations

import sqlalchemy as sa

from portal.demo.life import load_life
from portal.votes.models import Ballot, Vote


def test_the_demo_has_a_closed_vote_with_results_and_an_open_one(app, db, client):
    assert load_life() is True
    db.session.commit()
    closed, open_ = db.session.scalars(sa.select(Vote).order_by(Vote.id)).all()
    assert closed.state == "closed" and closed.turnout and closed.quorum_met is not None
    assert sum(o.total for o in closed.options) == closed.turnout <= closed.eligible_count
    assert open_.state == "open" and open_.eligible_count
    ballots = db.session.scalar(
        sa.select(sa.func.count()).select_from(Ballot).where(Ballot.vote_id == open_.id)
    )
    assert 0 < ballots < open_.eligible_count
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(Ballot).where(Ballot.vote_id == closed.id)
        )
        == 0
    )
    page = client.get(f"/votes/{closed.id}").get_data(as_text=True)
    assert "北门新路灯装在哪一侧" in page and "投票率" in page
    assert "投票进行中" in client.get(f"/votes/{open_.id}").get_data(as_text=True)
