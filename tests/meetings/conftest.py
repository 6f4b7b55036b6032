"""Meeting factories, built through the real services."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.core import clock
from portal.meetings import services as meetings
from tests.cases.conftest import make_case  # noqa: F401
from tests.conftest import user_by_email
from tests.proposals.conftest import category, make_proposal  # noqa: F401

COMMITTEE = "committee@example.org"
LIAISON = "liaison.health-commission@example.org"
OTHER_LIAISON = "liaison.culture-sports-bureau@example.org"


@pytest.fixture
def committee(db):
    return user_by_email(COMMITTEE)


@pytest.fixture
def make_meeting(app, db, community, committee):
    """make_meeting(days=10, capacity=None, topics=("议题",), publish=False) → a Meeting."""

    def _make(
        days: float = 10,
        capacity: int | None = None,
        topics=("小区停车",),
        publish: bool = False,
        title: str = "<b>三月议事会</b>",
    ):
        start = (clock.now() + timedelta(days=days)).replace(second=0, microsecond=0)
        with app.test_request_context("/"):
            m = meetings.create_meeting(
                committee,
                community,
                meetings.Details(
                    title=title,
                    description="讨论 <script>alert(1)</script>",
                    starts_at=start,
                    ends_at=start + timedelta(hours=2),
                    location="社区活动室",
                    capacity=capacity,
                ),
            )
            for t in topics:
                meetings.add_item(committee, m, topic=t, note="背景")
            if publish:
                meetings.publish(committee, m)
            db.session.commit()
        return m

    return _make
