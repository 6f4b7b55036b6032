"""An agency made inactive takes no new cases: routing passes over its rules, and a returned
case cannot be re-routed to it."""

from __future__ import annotations

import sqlalchemy as sa

from portal.cases import services as cases
from portal.proposals.models import Category
from portal.roles.models import Agency


def _agency(db, code: str) -> Agency:
    return db.session.scalar(sa.select(Agency).where(Agency.code == code))


def test_routing_passes_over_an_inactive_agency_to_the_next_rule(db, community, app):
    health = db.session.scalar(sa.select(Category).where(Category.code == "health"))
    commission = _agency(db, "health-commission")
    assert cases.route(health, community) == commission
    commission.active = False
    db.session.flush()
    # The district's catch-all takes it (属地兜底).
    assert cases.route(health, community).code == "street-office"
    _agency(db, "street-office").active = False
    db.session.flush()
    assert cases.route(health, community) is None  # filing then says there is no route


def test_a_returned_case_is_not_rerouted_to_an_inactive_agency(make_case, client, api_token, db):
    case = make_case("returned")
    civil = _agency(db, "civil-affairs-bureau")
    assert civil in cases.reroute_agencies(case)
    civil.active = False
    db.session.commit()
    assert civil not in cases.reroute_agencies(case)
    r = client.post(
        f"/api/v1/cases/{case.number}/actions",
        json={"action": "reroute", "note": "转民政", "agency_code": "civil-affairs-bureau"},
        headers=api_token("supervisor@example.org"),
    )
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "agency_out_of_scope"
    assert case.state.value == "returned"
