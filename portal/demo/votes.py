"""The demo's votes (表决): on an agenda item of a past meeting of 多福巷, a vote closed with its
results; on the coming meeting, a vote open now with a few ballots cast. Played after the
stories (``life.load_life``), through the votes' services with the clock at each moment; the
meetings themselves are plain rows (their services are another feature's)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import select

from portal.accounts.models import User
from portal.core import clock
from portal.extensions import db
from portal.meetings.models import AgendaItem, Meeting, MeetingState
from portal.places.services import community_by_code
from portal.votes import services as votes
from portal.votes.models import Elector, Vote

DUOFU = "110101001001"


def _meeting(community, title: str, starts_at: datetime, topic: str, note: str, **state):
    meeting = Meeting(
        community_id=community.id,
        title=title,
        description="居委会召集的议事会，欢迎居民参加。",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=2),
        location="多福巷社区居委会二楼活动室",
        published_at=starts_at - timedelta(days=9),
        created_at=starts_at - timedelta(days=10),
        **state,
    )
    db.session.add(meeting)
    db.session.flush()
    item = AgendaItem(meeting_id=meeting.id, position=1, kind="topic", topic=topic, note=note)
    db.session.add(item)
    db.session.flush()
    return item


def _ballots(vote: Vote, rng: random.Random, share: float, weights: list[int], moments) -> None:
    electors = db.session.scalars(
        select(User).join(Elector, Elector.user_id == User.id).where(Elector.vote_id == vote.id)
    ).all()
    voters = rng.sample(list(electors), round(len(electors) * share))
    for voter, when in zip(voters, moments(len(voters)), strict=True):
        clock.freeze(when)
        option = rng.choices(vote.options, weights=weights)[0]
        votes.cast_ballot(voter, vote, option.id)


def load_votes(now: datetime, seed: int = 15) -> None:
    """Needs the stories' residents; flushes, never commits; leaves the clock at ``now``."""
    rng = random.Random(seed)  # noqa: S311 - who votes what in the demo, not a secret
    community = community_by_code(DUOFU)
    if community is None:
        raise LookupError(DUOFU)
    committee = db.session.scalars(select(User).where(User.email == "committee@example.org")).one()

    def spread(start: datetime, end: datetime):
        return lambda n: sorted(start + (end - start) * rng.uniform(0.05, 0.95) for _ in range(n))

    # A past meeting: its vote on where the new lights go closed twelve days ago.
    held_at = now - timedelta(days=14)
    past = _meeting(
        community,
        "多福巷社区议事会（北门照明）",
        held_at,
        "北门夜间照明：新路灯装在哪一侧",
        "居民提议北门加装路灯，城管委答复可安装两盏，请居民表决位置。",
        state=MeetingState.held.value,
        held_at=held_at + timedelta(hours=2),
        minutes="与会居民和城管委联络员讨论了北门照明方案，表决结果见议题。",
    )
    opened = now - timedelta(days=16)
    clock.freeze(opened)
    closed_vote = votes.put_to_vote(
        committee,
        past,
        question="北门新路灯装在哪一侧？",
        options=["东侧（靠近菜市场）", "西侧（靠近公交站）", "两侧各装一盏"],
        kind="options",
        opens_at=opened,
        closes_at=opened + timedelta(days=4),
        quorum_percent=20,
    )
    _ballots(closed_vote, rng, 0.6, [2, 3, 5], spread(opened, opened + timedelta(days=4)))
    clock.freeze(closed_vote.closes_at + timedelta(minutes=3))
    votes.settle(closed_vote)

    # The coming meeting: its vote on the fitness corner's hours is open now.
    coming = _meeting(
        community,
        "多福巷社区议事会（健身角开放时间）",
        now + timedelta(days=5),
        "健身角是否延长晚间开放时间到 21:30",
        "有居民希望下班后也能锻炼，也有楼上住户担心噪音。",
        state=MeetingState.published.value,
    )
    opened = now - timedelta(days=1)
    clock.freeze(opened)
    open_vote = votes.put_to_vote(
        committee,
        coming,
        question="是否同意健身角晚间开放到 21:30？",
        options=None,
        kind="for-against-abstain",
        opens_at=opened,
        closes_at=now + timedelta(days=4),
        quorum_percent=25,
    )
    _ballots(open_vote, rng, 0.3, [6, 3, 1], spread(opened, now - timedelta(minutes=30)))
    clock.freeze(now)
    db.session.flush()
