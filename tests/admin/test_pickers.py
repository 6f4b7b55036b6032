"""Admin place pickers: a scope or a routing place is chosen by name, never typed as a code."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from portal.admin import pickers
from portal.roles.models import Role, RoleGrant


def _admin(app, login_as):
    client = app.test_client()
    login_as("admin", client)
    return client


def _options(html: str, name: str) -> dict[str, str]:
    select = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select, name
    return dict(re.findall(r'<option[^>]*value="([^"]*)"[^>]*>([^<]*)</option>', select[1]))


def test_a_small_grid_lists_every_scope_by_name(app, login_as):
    client = _admin(app, login_as)
    html = client.get("/admin/roles").get_data(as_text=True)
    options = _options(html, "scope_code")
    assert "多福巷社区 · 东华门街道 · 东城区 · 110101001001" in options["110101001001"]
    assert options["110101"].startswith("东城区")
    assert options["health-commission"].startswith("区卫生健康委员会")
    assert '<optgroup label="社区">' in html or '<optgroup label="Communities">' in html
    assert 'name="find"' not in html  # nothing to search: all is listed
    scope = re.search(r'<label for="scope_code".*?</div>', html, re.S)[0]
    assert "<select" in scope and "<input" not in scope


@pytest.fixture
def big_city(monkeypatch):
    """Pretend the grid is too big to list, as a city's thousand communities are."""
    monkeypatch.setattr(pickers, "LIST_ALL_UNDER", 3)


def test_a_big_city_searches_first_by_name_or_code(app, login_as, big_city):
    client = _admin(app, login_as)
    html = client.get("/admin/roles").get_data(as_text=True)
    assert 'name="find"' in html
    assert list(_options(html, "scope_code")) == [""]
    html = client.get("/admin/roles?find=银闸").get_data(as_text=True)
    assert list(_options(html, "scope_code")) == ["", "110101001002"]
    assert 'value="银闸"' in html  # the search is kept
    # The form posts back to the same search, so the matches stay its choices.
    assert 'action="/admin/roles?find=' in html
    html = client.get("/admin/roles?find=Street").get_data(as_text=True)
    assert "street-office" in _options(html, "scope_code")
    html = client.get("/admin/roles?find=1101010010010").get_data(as_text=True)
    assert set(_options(html, "scope_code")) > {"110101001001001"}  # grids by code
    html = client.get("/admin/roles?find=%25_zz").get_data(as_text=True)
    assert list(_options(html, "scope_code")) == [""]
    assert "“%_zz”" in html


def test_a_grant_by_chosen_scope_and_the_wrong_kind_said_at_the_field(
    app, login_as, db, make_user, big_city
):
    client = _admin(app, login_as)
    user = make_user()
    url = "/admin/roles?find=东城"
    wrong = client.form(
        url, {"email": user.email, "role": "committee", "scope_code": "110101"}, page=url
    )
    html = wrong.get_data(as_text=True)
    assert wrong.status_code == 400
    error = re.search(r'id="scope_code-error">(.*?)</p>', html, re.S)[1]
    assert "居委会成员所在的社区" in error
    assert f'value="{user.email}"' in html  # what was typed stays
    assert re.search(r'<option selected value="110101">|<option value="110101" selected', html)
    missing = client.form(url, {"email": user.email, "role": "supervisor"}, page=url)
    assert missing.status_code == 400 and 'id="scope_code-error"' in missing.get_data(as_text=True)
    ok = client.form(
        url, {"email": user.email, "role": "supervisor", "scope_code": "110101"}, page=url
    )
    assert ok.status_code == 302
    grant = db.session.scalar(sa.select(RoleGrant).where(RoleGrant.user_id == user.id))
    assert grant.role == Role.supervisor and grant.scope_code == "110101"


def test_routing_place_is_chosen_among_districts_streets_and_communities(
    app, login_as, db, big_city
):
    from portal.cases.models import RoutingRule

    client = _admin(app, login_as)
    html = client.get("/admin/routing?find=景山").get_data(as_text=True)
    assert list(_options(html, "place_code")) == ["", "110101002"]
    html = client.get("/admin/routing?find=钟鼓").get_data(as_text=True)
    assert list(_options(html, "place_code")) == ["", "110101002002"]
    url = "/admin/routing?find=景山"
    r = client.form(
        url, {"category": "health", "place_code": "110101002", "agency": "street-office"}, page=url
    )
    assert r.status_code == 302
    rule = db.session.scalar(sa.select(RoutingRule).order_by(RoutingRule.id.desc()))
    assert rule.place.code == "110101002" and rule.agency.code == "street-office"
    empty = client.form(
        url, {"category": "health", "place_code": "", "agency": "street-office"}, page=url
    )
    assert empty.status_code == 400
    assert 'id="place_code-error"' in empty.get_data(as_text=True)
