"""The home page: alive for visitors, personal for residents and staff, cheap and cached right."""

from __future__ import annotations

from datetime import timedelta

from portal.core import clock
from portal.core.i18n import fmt_datetime, force_locale


def test_visitors_see_proposals_near_their_threshold_and_closing_soon(anon, make_proposal, db):
    near = make_proposal("open", title="快达门槛的提议", threshold=3)
    near.support_count = 2
    soon = make_proposal("open", title="快截止的提议")
    soon.closes_at = clock.now() + timedelta(hours=5)
    db.session.commit()
    html = anon.get("/").get_data(as_text=True)
    near_part = html.split('id="near-h"')[1].split("</section>")[0]
    closing_part = html.split('id="closing-h"')[1].split("</section>")[0]
    assert f'href="/proposals/{near.id}"' in near_part
    assert f'href="/proposals/{soon.id}"' in closing_part
    assert "Districts" not in html and "区县" not in html


def test_close_to_threshold_ranks_by_share_of_the_threshold(anon, make_proposal, db):
    # Shares 0.9, 0.8, 0.75, 0.5, 0.5 (the older first), 0.2, and none: the first five shown.
    shares = [(9, 10), (0, 10), (1, 5), (4, 8), (2, 4), (3, 4), (8, 10)]
    made = []
    for count, threshold in shares:
        p = make_proposal("open", threshold=threshold)
        p.support_count = count
        made.append(p)
    db.session.commit()
    html = anon.get("/").get_data(as_text=True)
    near = html.split('id="near-h"')[1].split("</section>")[0]
    order = [i for i in (0, 6, 5, 3, 4, 2, 1) if f'href="/proposals/{made[i].id}"' in near]
    assert order == [0, 6, 5, 3, 4]
    assert [near.index(f'href="/proposals/{made[i].id}"') for i in order] == sorted(
        near.index(f'href="/proposals/{made[i].id}"') for i in order
    )


def test_visitors_see_cases_resolved_lately_with_their_agency(anon, make_case, db):
    case = make_case("verifying")
    now = clock.now()
    case.state, case.closed_at, case.close_reason = "closed", now, "resolved"
    db.session.commit()
    html = anon.get("/").get_data(as_text=True)
    resolved = html.split('id="resolved-h"')[1].split("</section>")[0]
    assert f'href="/cases/{case.number}"' in resolved
    assert case.agency.name_zh in resolved
    assert case.proposal.title in resolved
    with anon.application.test_request_context("/"), force_locale("zh_Hans"):
        assert fmt_datetime(now, "medium") in resolved
    figures = html.split('id="figures-h"')[1].split("</section>")[0]
    assert "<dd>1</dd>" in figures  # resolved this month, and within its time limit
    # A proposal the committee hid keeps only its number there too.
    case.proposal.hidden, case.proposal.hidden_at = True, now
    db.session.commit()
    html = anon.get("/").get_data(as_text=True)
    resolved = html.split('id="resolved-h"')[1].split("</section>")[0]
    assert case.proposal.title not in resolved and f"#{case.proposal.id}" in resolved


def test_a_resident_sees_what_needs_their_support_and_their_own(client, login_as, make_proposal):
    neighbour = make_proposal("open", title="邻居的提议", author=None)
    from tests.conftest import DEMO, user_by_email

    mine = make_proposal("open", title="我的提议", author=user_by_email(DEMO["resident2"]))
    login_as("resident2")
    html = client.get("/").get_data(as_text=True)
    support = html.split('id="support-h"')[1].split("</section>")[0]
    assert f'href="/proposals/{neighbour.id}"' in support
    own = html.split('id="mine-h"')[1].split("</section>")[0]
    assert f'href="/proposals/{mine.id}"' in own


def test_staff_see_their_desks_with_counts(client, login_as, make_case):
    make_case("dispatched")
    login_as("liaison")
    html = client.get("/").get_data(as_text=True)
    desks = html.split('id="desks-h"')[1].split("</section>")[0]
    assert 'href="/workspace/agency/health-commission"' in desks
    assert '<p class="tile-count">1</p>' in desks


def test_the_home_page_is_public_cached_for_visitors_only(anon, client, login_as):
    r = anon.get("/")
    assert r.headers["Cache-Control"].startswith("public")
    login_as("resident")
    r = client.get("/")
    assert r.headers["Cache-Control"] == "no-store"


def test_the_home_page_runs_a_bounded_number_of_queries(anon, make_proposal, count_queries):
    for _ in range(3):
        make_proposal("open")
    anon.get("/")
    with count_queries() as few:
        anon.get("/")
    for _ in range(6):
        make_proposal("open")
    with count_queries() as more:
        anon.get("/")
    assert more.count == few.count
    assert few.count <= 10


def _stage(app, case) -> str:
    from portal.cases.services import stage_text

    with app.test_request_context("/"):
        return str(stage_text(case))


def test_what_a_resident_raised_shows_its_case_live_stage(app, client, login_as, make_case, db):
    from portal.proposals.services import status_label

    case = make_case("in_progress")  # raised by resident1, supported by resident2
    login_as("resident")
    own = client.get("/").get_data(as_text=True).split('id="mine-h"')[1].split("</section>")[0]
    assert f'href="/proposals/{case.proposal_id}"' in own
    assert _stage(app, case) in own
    assert f'href="/cases/{case.number}"' in own and case.agency.name_zh in own
    with app.test_request_context("/"):
        assert str(status_label(case.proposal.status)) not in own  # not "threshold reached"
    case.state, case.closed_at, case.close_reason = "closed", clock.now(), "resolved"
    db.session.commit()
    own = client.get("/").get_data(as_text=True).split('id="mine-h"')[1].split("</section>")[0]
    closed = _stage(app, case)
    assert closed.startswith("已结案") and closed in own


def test_the_cases_of_what_a_resident_raised_cost_one_query(
    client, login_as, make_case, count_queries
):
    make_case("dispatched")
    login_as("resident")
    client.get("/")
    with count_queries() as one:
        client.get("/")
    make_case("accepted")
    make_case("in_progress")
    with count_queries() as three:
        client.get("/")
    assert three.count == one.count
