"""Routing: which agency a category in a place goes to, and the rules the admins set."""

from __future__ import annotations

from sqlalchemy import select

from portal.audit.services import record
from portal.cases.models import RoutingRule
from portal.cases.services._common import CaseError
from portal.core.i18n import gettext as _
from portal.extensions import db
from portal.places.models import Community
from portal.proposals.models import Category
from portal.roles.models import Agency

# --- routing ---------------------------------------------------------------------------------


def route(category: Category, community: Community) -> Agency | None:
    """Most specific place first (community, street, district); at the same place a rule for
    the category beats the catch-all; the district's catch-all is the fallback (属地兜底). A
    rule naming an agency that was made inactive is passed over: the case goes to the next."""
    street = community.street
    places = [f"community:{community.id}", f"street:{street.id}", f"district:{street.district_id}"]
    rules = db.session.scalars(
        select(RoutingRule)
        .join(Agency, Agency.id == RoutingRule.agency_id)
        .where(
            RoutingRule.place_key.in_(places),
            RoutingRule.category_key.in_([str(category.id), "*"]),
            Agency.active,
        )
    ).all()
    ranked = sorted(rules, key=lambda r: (places.index(r.place_key), r.category_key == "*"))
    return ranked[0].agency if ranked else None


def set_rule(actor, category: Category | None, place, agency: Agency) -> RoutingRule:
    kind = {"communities": "community", "streets": "street", "districts": "district"}[
        place.__tablename__
    ]
    if category is None and kind != "district":
        raise CaseError(
            "invalid_rule", _("A fallback agency is set for a whole district."), status=400
        )
    category_key = str(category.id) if category else "*"
    place_key = f"{kind}:{place.id}"
    rule = db.session.scalar(
        select(RoutingRule).where(
            RoutingRule.category_key == category_key, RoutingRule.place_key == place_key
        )
    )
    if rule is None:
        rule = RoutingRule(
            category_id=category.id if category else None,
            category_key=category_key,
            place_key=place_key,
            **{f"{kind}_id": place.id},
            agency_id=agency.id,
        )
        db.session.add(rule)
    rule.agency_id = agency.id
    db.session.flush()
    record(
        actor,
        "routing.set",
        rule,
        category=category.code if category else "*",
        place=place.code,
        agency=agency.code,
    )
    return rule


def delete_rule(actor, rule: RoutingRule) -> None:
    record(actor, "routing.delete", rule, category=rule.category_key, place=rule.place_key)
    db.session.delete(rule)
    db.session.flush()
