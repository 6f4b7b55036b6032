"""Case factories: a qualified proposal files a case; helpers drive it to any state."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.cases import services as cases
from portal.cases.models import Case, CaseState
from portal.core import clock
from portal.extensions import db as _db
from portal.proposals import services as proposals
from portal.proposals.models import Category
from tests.conftest import user_by_email

LIAISON = "liaison.health-commission@example.org"


def people():
    return {
        "liaison": user_by_email(LIAISON),
        "supervisor": user_by_email("supervisor@example.org"),
        "grid_worker": user_by_email("gridworker@example.org"),
    }


@pytest.fixture
def make_case(app, db, community):
    """make_case("verifying", category="health") → a Case in that state."""

    def _make(state: str = "dispatched", category: str = "health", community_=None) -> Case:
        target = community_ or community
        author = user_by_email(
            "resident1@example.org" if target.code == "110101001001" else "resident.b@example.org"
        )
        committee = user_by_email(
            "committee@example.org" if target.code == "110101001001" else "committee.b@example.org"
        )
        cat = _db.session.scalar(sa.select(Category).where(Category.code == category))
        with app.test_request_context("/"):
            p = proposals.create(
                author,
                target,
                title="路灯不亮",
                summary="北门",
                body="修",
                category=cat,
                submit=True,
            )
            if target.code != "110101001001":
                # One resident only there: the author's own support reaches the threshold.
                target.support_minimum, target.support_percent = 1, 0.0
            proposals.review(committee, p, "approve")
            if p.status.value == "open":
                p.threshold = 2
                _db.session.flush()
                proposals.support(user_by_email("resident2@example.org"), p)
            case = cases.case_for_proposal(p)
            liaison = user_by_email(f"liaison.{case.agency.code}@example.org")
            steps = {
                "accepted": [("accept", liaison, {})],
                "returned": [("return", liaison, {"note": "不属于本部门"})],
                "in_progress": [
                    ("accept", liaison, {}),
                    (
                        "plan",
                        liaison,
                        {"note": "本周维修", "expected_at": clock.now() + timedelta(days=2)},
                    ),
                ],
            }
            steps["verifying"] = steps["in_progress"] + [
                ("resolve", liaison, {"note": "已更换灯泡"})
            ]
            for action, actor, kwargs in steps.get(state, []):
                cases.act(actor, case, action, **kwargs)
            _db.session.commit()
        assert case.state == CaseState(state)
        return case

    return _make


@pytest.fixture
def other_district(db, make_user):
    """District 110102 with one agency and its own supervisor: (district, agency, supervisor)."""
    from portal.places.models import District
    from portal.roles.models import Agency, Role
    from portal.roles.services import grant

    dongcheng = _db.session.scalar(sa.select(District).where(District.code == "110101"))
    district = District(
        code="110102", name_zh="西城区", name_en="Xicheng District", city_id=dongcheng.city_id
    )
    _db.session.add(district)
    _db.session.flush()
    agency = Agency(
        code="xicheng-civil-affairs",
        name_zh="西城区民政局",
        name_en="Xicheng Civil Affairs Bureau",
        district_id=district.id,
    )
    _db.session.add(agency)
    supervisor = make_user()
    grant(None, supervisor, Role.supervisor, "110102")
    _db.session.commit()
    return district, agency, supervisor
