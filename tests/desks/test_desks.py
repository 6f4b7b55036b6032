"""The desks in the header and their counts: the same numbers as the queues they open."""

from __future__ import annotations

import re

from portal.desks.queries import desks_for
from tests.conftest import DEMO, user_by_email


def header_counts(html: str) -> dict[str, int]:
    """data-desk kind → the count shown beside it in the header (0 when no badge)."""
    nav = html.split('<nav class="site-nav"', 1)[1].split("</nav>", 1)[0]
    out = {}
    for kind, rest in re.findall(r'data-desk="(\w+)">(.*?)</a>', nav, re.S):
        m = re.search(r'data-count="(\d+)"', rest)
        out[kind] = int(m.group(1)) if m else 0
    return out


def cards(html: str) -> int:
    return html.count('class="card')


def test_a_resident_has_no_desk(client, login_as):
    login_as("resident")
    html = client.get("/").get_data(as_text=True)
    assert header_counts(html) == {}
    assert 'href="/cases"' in html  # Cases is in the main navigation for everyone


def test_visitors_see_cases_and_search_in_the_header(anon):
    html = anon.get("/places").get_data(as_text=True)
    assert 'href="/cases"' in html
    assert 'action="/search"' in html and 'method="get"' in html


def test_committee_counts_match_the_review_queue(client, login_as, make_proposal, db):
    login_as("committee")
    assert header_counts(client.get("/cases").get_data(as_text=True)) == {"committee": 0}
    make_proposal("submitted")
    make_proposal("submitted")
    make_proposal("open")
    html = client.get("/cases").get_data(as_text=True)
    assert header_counts(html) == {"committee": 2}
    desk = client.get("/communities/110101001001/desk").get_data(as_text=True)
    assert 'data-count="review">2<' in desk
    assert 'data-count="moderation">0<' in desk
    queue = client.get("/communities/110101001001/review").get_data(as_text=True)
    assert queue.count('class="card') >= 2


def test_committee_counts_reports_once_per_target_and_residency_requests(
    app, client, login_as, make_proposal, make_user, community, db
):
    from portal.deliberation.models import Report
    from portal.residency import services as residency

    p = make_proposal("open")
    for reporter in ("resident2", "resident_b"):
        db.session.add(
            Report(
                community_id=community.id,
                target_type="proposal",
                target_id=p.id,
                reporter_id=user_by_email(DEMO[reporter]).id,
                reason="spam",
            )
        )
    newcomer = make_user()
    with app.test_request_context("/"):
        residency.request_residency(newcomer, community, "3号楼")
    db.session.commit()
    login_as("committee")
    desk = client.get("/communities/110101001001/desk").get_data(as_text=True)
    assert 'data-count="moderation">1<' in desk
    assert 'data-count="residency">1<' in desk
    assert header_counts(desk) == {"committee": 2}


def test_liaison_grid_and_supervisor_counts_match_their_workspaces(client, login_as, make_case):
    make_case("dispatched")
    make_case("verifying")
    make_case("returned")
    login_as("liaison")
    html = client.get("/workspace/agency/health-commission").get_data(as_text=True)
    assert header_counts(html) == {"liaison": 1}
    assert html.count('href="/cases/110101001001-') == 1  # the "new" tab lists one case
    login_as("grid_worker")
    html = client.get("/workspace/grid").get_data(as_text=True)
    assert header_counts(html) == {"grid": 1}
    login_as("supervisor")
    html = client.get("/workspace/supervisor/110101").get_data(as_text=True)
    assert header_counts(html) == {"supervisor": 1}
    assert html.count('href="/cases/110101001001-') == 1  # the "returned" tab


def test_a_grid_workers_desk_between_others_keeps_every_count(app, client, login_as, make_case, db):
    """The grid desk's column is built for the request and comes last in the statement; the
    desks around it (built once for their shape) keep their own counts."""
    from portal.roles.models import Role
    from portal.roles.services import grant

    make_case("dispatched")
    make_case("verifying")
    make_case("returned")
    user = user_by_email(DEMO["grid_worker"])
    with app.test_request_context("/"):
        grant(None, user, Role.liaison, "health-commission")
        grant(None, user, Role.supervisor, "110101")
    db.session.commit()
    login_as("grid_worker")
    html = client.get("/workspace/grid").get_data(as_text=True)
    assert header_counts(html) == {"liaison": 1, "grid": 1, "supervisor": 1}
    assert re.findall(r'data-desk="(\w+)"', html) == ["liaison", "grid", "supervisor"]


def test_every_desk_is_counted_in_one_statement(app, login_as, count_queries, make_case):
    from portal.roles import permissions

    make_case("dispatched")
    user = user_by_email(DEMO["liaison"])
    with app.test_request_context("/"):
        permissions.grants(user)  # loaded once a request, for every page
        with count_queries() as q:
            desks = desks_for(user)
            again = desks_for(user)
        assert q.count == 1
        assert desks is again
        assert [(d.kind, d.count) for d in desks] == [("liaison", 1)]


def test_two_desks_of_a_kind_name_their_scope(client, login_as, db, community_b):
    from portal.roles.models import Role, RoleGrant

    user = user_by_email(DEMO["committee"])
    db.session.add(
        RoleGrant(
            user_id=user.id,
            role=Role.committee,
            community_id=community_b.id,
            scope_key=f"community:{community_b.id}",
        )
    )
    db.session.commit()
    login_as("committee")
    html = client.get("/cases").get_data(as_text=True)
    assert len(re.findall(r'data-desk="committee"', html)) == 2
    assert 'href="/communities/110101001002/desk"' in html
    # Two of a kind: the community's name is shown, not only told to screen readers.
    first = html.split('data-desk="committee">', 1)[1].split("</a>", 1)[0]
    assert '<span class="">' in first and 'visually-hidden">：' not in first


def test_the_committee_desk_is_the_committees_only(client, login_as):
    login_as("committee_b")
    assert client.get("/communities/110101001001/desk").status_code == 403
    assert client.get("/communities/999999999999/desk").status_code == 404


def test_the_district_desk_counts_extension_requests_as_well_as_returned_cases(
    app, client, login_as, make_case
):
    from datetime import timedelta

    from portal.cases import services as cases
    from tests.cases.conftest import LIAISON
    from tests.conftest import user_by_email

    make_case("returned")
    waiting = make_case("accepted")
    with app.test_request_context("/"):
        cases.act(
            user_by_email(LIAISON),
            waiting,
            "request_extension",
            note="需要采购",
            expected_at=waiting.handling_due_at + timedelta(days=5),
        )
    login_as("supervisor")
    html = client.get("/workspace/supervisor/110101").get_data(as_text=True)
    assert header_counts(html) == {"supervisor": 2}  # one to re-route, one to decide


def test_grants_are_read_as_rows_with_their_scopes_code_name_and_grid_community(app, db):
    """``permissions.grants`` reads each grant with its scope's code and names (and a grid's
    community) in one statement; the checks built on it answer from those rows."""
    from sqlalchemy import select

    from portal.places.models import Community, Grid
    from portal.roles import permissions
    from portal.roles.models import Agency, Role
    from portal.roles.services import grant

    user = user_by_email(DEMO["resident"])
    grid = db.session.scalars(select(Grid).order_by(Grid.id)).first()
    home = db.session.get(Community, grid.community_id)
    other = db.session.scalar(select(Community).where(Community.id != home.id))
    agency = db.session.scalar(select(Agency).where(Agency.code == "health-commission"))
    with app.test_request_context("/"):
        grant(None, user, Role.grid_worker, grid.code)
        grant(None, user, Role.liaison, agency.code)
        grant(None, user, Role.admin, None)
    db.session.commit()
    with app.test_request_context("/"):
        rows = permissions.grants(user)
        assert [(r.role, r.scope_code) for r in rows] == [
            (Role.grid_worker, grid.code),
            (Role.liaison, agency.code),
            (Role.admin, None),
        ]
        by_role = {r.role: r for r in rows}
        assert by_role[Role.grid_worker].grid_community_id == home.id
        assert by_role[Role.liaison].agency_id == agency.id
        assert by_role[Role.liaison].scope_name("en") == agency.name("en")
        assert by_role[Role.liaison].scope_name("zh_Hans") == agency.name("zh_Hans")
        assert by_role[Role.grid_worker].scope_name("zh_Hans") == grid.name("zh_Hans")
        # A grid grant covers its grid's community, and no other.
        assert permissions.is_grid_worker(user, community=home)
        assert not permissions.is_grid_worker(user, community=other)
        assert permissions.is_grid_worker(user, grid=grid)
        assert permissions.is_liaison(user, agency)
        assert permissions.is_admin(user)
