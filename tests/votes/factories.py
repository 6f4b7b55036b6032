"""Meetings and votes for the tests of votes (and the role matrix), built on the models (the
meetings' services are another branch's) and on the votes' own services."""

from __future__ import annotations

import itertools
from datetime import timedelta

from portal.core import clock
from portal.extensions import db
from tests.conftest import NASTY, user_by_email

_n = itertools.count(1)


def make_item(community, state: str = "published"):
    """A meeting of ``community`` in ``state`` a week ahead, with one free-topic item."""
    from portal.meetings.models import AgendaItem, Meeting

    now = clock.now()
    n = next(_n)
    meeting = Meeting(
        community_id=community.id,
        title=f"议事会{n} {NASTY[:20]}",
        starts_at=now + timedelta(days=7),
        ends_at=now + timedelta(days=7, hours=2),
        location="社区活动室",
        state=state,
        published_at=None if state == "draft" else now,
        cancelled_at=now if state == "cancelled" else None,
        cancel_reason="场地维修" if state == "cancelled" else None,
    )
    db.session.add(meeting)
    db.session.flush()
    item = AgendaItem(meeting_id=meeting.id, position=1, kind="topic", topic=f"议题{n} {NASTY}")
    db.session.add(item)
    db.session.commit()
    return item


def committee_of(community):
    return user_by_email(
        "committee@example.org" if community.code == "110101001001" else "committee.b@example.org"
    )


def make_vote(
    app,
    community,
    *,
    opens_in=timedelta(0),
    lasts=timedelta(days=3),
    options=None,
    quorum_percent=None,
    item=None,
):
    """A vote of ``community`` put by its committee: open now by default (``opens_in`` later
    for a scheduled one); for / against / abstain unless ``options`` are given."""
    from portal.votes import services

    item = item or make_item(community)
    opens = clock.now() + opens_in
    with app.test_request_context("/"):
        vote = services.put_to_vote(
            committee_of(community),
            item,
            question=f"是否同意？{NASTY}",
            options=options,
            kind="options" if options else "for-against-abstain",
            opens_at=opens,
            closes_at=opens + lasts,
            quorum_percent=quorum_percent,
        )
        db.session.commit()
    return vote
