"""Admin: role grants (web and CLI), agencies; every action audited."""

from __future__ import annotations

import sqlalchemy as sa
from markupsafe import escape

from portal.audit.models import AuditEntry
from portal.roles.models import Agency, Role, RoleGrant


def _admin(app, login_as):
    client = app.test_client()
    login_as("admin", client)
    return client


def test_grant_and_revoke_a_role(app, login_as, db, make_user, api_token):
    client = _admin(app, login_as)
    user = make_user()
    r = client.form(
        "/admin/roles",
        {"email": user.email, "role": "committee", "scope_code": "110101001002"},
        page="/admin/roles",
    )
    assert r.status_code == 302
    grant = db.session.scalar(sa.select(RoleGrant).where(RoleGrant.user_id == user.id))
    assert grant.role == Role.committee and grant.scope_code == "110101001002"
    me = client.get("/api/v1/me", headers=api_token(user)).get_json()
    assert me["roles"] == [{"role": "committee", "scope_code": "110101001002"}]
    # The grants name whom they are about (escaped: display names are the person's own words).
    listing = client.get("/admin/roles").get_data(as_text=True)
    assert str(escape(user.display_name)) in listing and f"#{user.id}" in listing
    assert user.display_name not in listing or user.display_name == str(escape(user.display_name))
    again = client.form(
        "/admin/roles",
        {"email": user.email, "role": "committee", "scope_code": "110101001002"},
        page="/admin/roles",
    )
    assert again.status_code == 400
    r = client.form("/admin/roles/revoke", {"grant_id": grant.id}, page="/admin/roles")
    assert r.status_code == 302
    assert db.session.scalar(sa.select(RoleGrant).where(RoleGrant.user_id == user.id)) is None
    actions = db.session.scalars(
        sa.select(AuditEntry.action).where(
            AuditEntry.subject_type == "users", AuditEntry.subject_id == str(user.id)
        )
    ).all()
    assert actions == ["role.grant", "role.revoke"]


def test_grant_errors_sit_next_to_fields(app, login_as, make_user):
    client = _admin(app, login_as)
    user = make_user()
    cases = [
        ({"email": "nobody@example.org", "role": "admin"}, "email-error"),
        ({"email": user.email, "role": "committee", "scope_code": "123"}, "scope_code-error"),
        ({"email": user.email, "role": "liaison", "scope_code": "nope"}, "scope_code-error"),
        ({"email": user.email, "role": "admin", "scope_code": "110101"}, "scope_code-error"),
        ({"email": user.email, "role": "king"}, "role-error"),
    ]
    for data, error_id in cases:
        r = client.form("/admin/roles", data, page="/admin/roles")
        assert r.status_code == 400, data
        assert f'id="{error_id}"' in r.get_data(as_text=True), data


def test_database_refuses_a_grant_without_its_scope(db, make_user):
    user = make_user()
    db.session.add(RoleGrant(user_id=user.id, role=Role.committee, scope_key="x"))
    import pytest

    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_roles_cli(app, db, make_user):
    user = make_user()
    runner = app.test_cli_runner()
    r = runner.invoke(args=["roles", "grant", user.email, "grid_worker", "110101001001002"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(args=["roles", "grant", user.email, "supervisor", "110101"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(args=["roles", "grant", user.email, "supervisor", "999999"])
    assert r.exit_code != 0 and "Error:" in r.output
    r = runner.invoke(args=["roles", "revoke", user.email, "supervisor", "110101"])
    assert r.exit_code == 0, r.output
    roles = db.session.scalars(sa.select(RoleGrant).where(RoleGrant.user_id == user.id)).all()
    assert [(g.role, g.scope_code) for g in roles] == [(Role.grid_worker, "110101001001002")]
    r = runner.invoke(args=["roles", "grant", "nobody@example.org", "admin"])
    assert r.exit_code != 0


def test_create_agency(app, login_as, db):
    client = _admin(app, login_as)
    data = {
        "code": "water-bureau",
        "name_zh": "区水务局",
        "name_en": "Water Bureau",
        "district_code": "110101",
    }
    assert client.form("/admin/agencies", data, page="/admin/agencies").status_code == 302
    agency = db.session.scalar(sa.select(Agency).where(Agency.code == "water-bureau"))
    assert agency.district.code == "110101"
    dup = client.form("/admin/agencies", data, page="/admin/agencies")
    assert dup.status_code == 400 and 'id="code-error"' in dup.get_data(as_text=True)
    bad = client.form("/admin/agencies", {**data, "code": "Bad Code!"}, page="/admin/agencies")
    assert bad.status_code == 400
    assert db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "agency.create"))


LIMITS = {"response_days": 1, "handling_days": 10, "verification_days": 3}


def test_categories_are_admin_managed(app, login_as, db):
    from portal.proposals.models import Category

    client = _admin(app, login_as)
    r = client.form(
        "/admin/categories",
        {
            "code": "transport",
            **LIMITS,
            "name_zh": "交通出行",
            "name_en": "Transport",
            "icon": "🚌",
            "position": 9,
            "active": "y",
        },
        page="/admin/categories",
    )
    assert r.status_code == 302
    cat = db.session.scalar(sa.select(Category).where(Category.code == "transport"))
    assert cat.name_en == "Transport" and cat.active
    url = f"/admin/categories/{cat.id}"
    r = client.form(
        url,
        {
            "code": "hijack",
            "name_zh": "交通",
            "name_en": "Transport",
            "icon": "",
            "position": 9,
            **LIMITS,
        },
        page=url,
    )
    assert r.status_code == 302
    db.session.refresh(cat)
    assert cat.code == "transport" and cat.name_zh == "交通" and not cat.active
    assert "transport" not in [
        c["code"] for c in client.get("/api/v1/categories").get_json()["items"]
    ]
    dup = client.form(
        "/admin/categories",
        {"code": "health", "name_zh": "x", "name_en": "x", "position": 1, **LIMITS},
        page="/admin/categories",
    )
    assert dup.status_code == 400 and 'id="code-error"' in dup.get_data(as_text=True)
    assert db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "category.save"))


def test_support_rules_per_community(app, login_as, db, community):
    client = _admin(app, login_as)
    url = "/admin/communities/110101001001/support-rules"
    page = client.get(url).get_data(as_text=True)
    assert "support_minimum" in page
    bad = client.form(
        url, {"support_minimum": 0, "support_percent": "101", "support_window_days": 400}, page=url
    )
    assert bad.status_code == 400
    html = bad.get_data(as_text=True)
    for field in ("support_minimum", "support_percent", "support_window_days"):
        assert f'id="{field}-error"' in html
    r = client.form(
        url, {"support_minimum": 7, "support_percent": "2.5", "support_window_days": 45}, page=url
    )
    assert r.status_code == 302
    db.session.refresh(community)
    assert (
        community.support_minimum,
        community.support_percent,
        community.support_window_days,
    ) == (7, 2.5, 45)


def test_routing_rules_page(app, login_as, db, community):
    from portal.cases.models import RoutingRule
    from portal.cases.services import route
    from portal.proposals.models import Category

    client = _admin(app, login_as)
    url = "/admin/routing"
    assert "street-office" in client.get(url).get_data(as_text=True)
    r = client.form(
        url,
        {"category": "health", "place_code": "110101001001", "agency": "street-office"},
        page=url,
    )
    assert r.status_code == 302
    health = db.session.scalar(sa.select(Category).where(Category.code == "health"))
    assert route(health, community).code == "street-office"
    bad = client.form(
        url, {"category": "*", "place_code": "110101001001", "agency": "street-office"}, page=url
    )
    assert bad.status_code == 400 and 'id="place_code-error"' in bad.get_data(as_text=True)
    missing = client.form(
        url, {"category": "health", "place_code": "999999", "agency": "street-office"}, page=url
    )
    assert missing.status_code == 400
    rule = db.session.scalar(
        sa.select(RoutingRule).where(RoutingRule.place_key == f"community:{community.id}")
    )
    r = client.form("/admin/routing/delete", {"item_id": rule.id}, page=url)
    assert r.status_code == 302
    assert route(health, community).code == "health-commission"
    api = client.get("/api/v1/routing-rules").get_json()["items"]
    assert {
        "category": None,
        "place_level": "district",
        "place_code": "110101",
        "agency_code": "street-office",
        "fallback": True,
    } in api


def test_calendar_page(app, login_as, db):
    from datetime import date

    from portal.cases.models import CalendarDay

    client = _admin(app, login_as)
    r = client.form(
        "/admin/calendar",
        {"day": "2026-10-01", "kind": "holiday", "note": "国庆节"},
        page="/admin/calendar",
    )
    assert r.status_code == 302
    assert db.session.get(CalendarDay, date(2026, 10, 1)).is_workday is False
    bad = client.form(
        "/admin/calendar", {"day": "not a date", "kind": "holiday"}, page="/admin/calendar"
    )
    assert bad.status_code == 400 and 'id="day-error"' in bad.get_data(as_text=True)


def test_category_time_limits(app, login_as, db):
    from portal.proposals.models import Category

    client = _admin(app, login_as)
    cat = db.session.scalar(sa.select(Category).where(Category.code == "safety"))
    assert cat.handling_days == 5
    url = f"/admin/categories/{cat.id}"
    r = client.form(
        url,
        {
            "code": "safety",
            "name_zh": cat.name_zh,
            "name_en": cat.name_en,
            "icon": cat.icon,
            "position": cat.position,
            "active": "y",
            "response_days": 2,
            "handling_days": 7,
            "verification_days": 4,
        },
        page=url,
    )
    assert r.status_code == 302
    db.session.refresh(cat)
    assert (cat.response_days, cat.handling_days, cat.verification_days) == (2, 7, 4)
