"""The dashboard's figures on hand-built cases with known answers, kept current on change."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from portal.cases import services as cases
from portal.cases.models import CaseEvent, CaseFeedback
from portal.core import clock
from portal.extensions import db as _db
from portal.transparency.dashboard import figures as F
from portal.transparency.dashboard.facts import bucket_of
from portal.transparency.dashboard.models import ROLLUP_KEY, DashboardFact, DashboardRollup
from portal.transparency.dashboard.rollup import KEY, city_tz
from tests.cases.conftest import people
from tests.conftest import user_by_email


def _period():
    today = clock.now().astimezone(city_tz()).date()
    return today - timedelta(days=29), today + timedelta(days=40)


def _summary(scope=None):
    start, end = _period()
    return F.summary(scope or F.Scope("city"), start, end, clock.now())


def _close(app, case, reason="no-further-action"):
    with app.test_request_context("/"):
        cases.act(people()["supervisor"], case, "close", note="结案", reason_code=reason)
        _db.session.commit()


def test_empty_period_divides_by_nothing(app):
    with app.test_request_context("/"):
        s = F.summary(F.Scope("city"), date(2001, 1, 1), date(2001, 1, 31), clock.now())
    for key in ("response", "on_time", "close", "rework", "satisfaction"):
        assert s[key].den == 0 and s[key].value is None and s[key].percent is None
    assert s["median_days"] is None and s["p90_days"] is None
    assert [n for _k, n, _r in s["funnel"]] == [0, 0, 0, 0]


def test_percentiles_from_buckets_are_exact_up_to_30_days():
    histogram = {bucket_of(d): 0 for d in range(12)}
    for days in (1, 2, 2, 3, 10):
        histogram[bucket_of(days)] += 1
    assert F.percentile(histogram, 0.5) == 2
    assert F.percentile(histogram, 0.9) == 10
    assert bucket_of(31) == 45 and bucket_of(400) == 366
    assert F.percentile({}, 0.5) is None


def test_a_case_counts_on_dispatch_due_and_close(app, make_case):
    accepted = make_case("accepted")
    make_case("dispatched")
    s = _summary()
    # Two dispatched: one accepted within its response limit, one still inside it.
    assert (s["response"].num, s["response"].den) == (1, 1)
    assert s["response"].extra["waiting"] == 1
    assert s["dispatched"] == 2
    assert s["on_time"].den == 0 and s["on_time"].extra["waiting"] == 2
    assert s["funnel"][0][1] == 2 and s["funnel"][2][1] == 2 and s["funnel"][3][1] == 0
    _close(app, accepted)
    s = _summary()
    assert (s["on_time"].num, s["on_time"].den) == (1, 1)
    assert (s["close"].num, s["close"].den) == (1, 1)
    assert (s["rework"].num, s["rework"].den) == (0, 1)
    assert s["median_days"] == 0 and s["closed"] == 1
    assert s["funnel"][3][1] == 1
    assert s["funnel"][3][2].den == 2  # of the two qualified


def test_late_close_rework_and_satisfaction(app, make_case):
    case = make_case("verifying")
    with app.test_request_context("/"):
        # Two supporters answer: one satisfied (4), one not (2).
        for email, score in (("resident1@example.org", 4), ("resident2@example.org", 2)):
            cases.give_feedback(user_by_email(email), case, solved=score >= 4, satisfaction=score)
        cases.act(people()["grid_worker"], case, "verify", note="没修好", passed=False)
        _db.session.commit()
    assert case.reopen_count == 1
    clock.freeze(case.handling_due_at + timedelta(days=3))
    try:
        _close(app, case)
        s = _summary()
    finally:
        clock.freeze(None)
    assert (s["on_time"].num, s["on_time"].den) == (0, 1)  # closed after its limit
    assert (s["close"].num, s["close"].den) == (1, 1)
    assert (s["rework"].num, s["rework"].den) == (1, 1)
    assert (s["satisfaction"].num, s["satisfaction"].den) == (1, 2)
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(CaseFeedback)) == 2


def test_not_recorded_history_is_shown_not_guessed(app, make_case):
    from portal.transparency.dashboard.rollup import refresh

    case = make_case("accepted")
    # As an event from before 0021: its due times were never stored.
    _db.session.execute(
        sa.update(CaseEvent)
        .where(CaseEvent.case_id == case.id)
        .values(handling_due_at=None, stage_due_at=None)
    )
    with app.test_request_context("/"):
        refresh([case.proposal_id])
    s = _summary()
    assert s["response"].den == 0 and s["response"].extra["unrecorded"] == 1
    assert s["on_time"].den == 0 and s["on_time"].extra["unrecorded"] == 1
    html = app.test_client().get("/dashboard?period=year").get_data(as_text=True)
    assert "1 not recorded" in html or "1 项未记录" in html


def test_scopes_split_the_figures(app, make_case, community_b):
    make_case("accepted")
    make_case("accepted", community_=community_b)
    from portal.places.models import Community

    a = _db.session.scalar(sa.select(Community).where(Community.code == "110101001001"))
    assert _summary(F.Scope("community", a))["response"].num == 1
    assert _summary()["response"].num == 2


def test_sums_match_a_rebuild(app, make_case):
    """What the incremental updates left equals what a rebuild from the history gives."""
    c = make_case("verifying")
    make_case("returned")
    _close(app, c)

    def snapshot():
        return sorted(
            _db.session.execute(
                sa.select(
                    *(getattr(DashboardRollup, c) for c in ROLLUP_KEY),
                    DashboardRollup.n,
                    DashboardRollup.answers,
                    DashboardRollup.satisfied,
                ).where(DashboardRollup.n != 0)
            ).all()
        )

    before = snapshot()
    assert before
    result = CliRunner().invoke(app.cli, ["dashboard", "refresh", "--all"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert snapshot() == before


def test_refresh_turns_a_passed_limit_late(app, make_case):
    case = make_case("dispatched")
    clock.freeze(case.stage_due_at + timedelta(hours=1))
    try:
        result = CliRunner().invoke(app.cli, ["dashboard", "refresh"], catch_exceptions=False)
        assert "1 proposals refreshed" in result.output
        outcome = _db.session.scalar(
            sa.select(DashboardFact.outcome).where(
                DashboardFact.case_id == case.id, DashboardFact.kind == "response"
            )
        )
        assert outcome == "late"
    finally:
        clock.freeze(None)


def test_page_shows_figures_and_links_the_cases_behind_them(app, make_case):
    case = make_case("accepted")
    client = app.test_client()
    html = client.get("/dashboard").get_data(as_text=True)
    assert 'role="img"' in html and "<title" in html and "<desc" in html
    assert "/dashboard/cases?" in html
    # The city's date (its facts are filed by it), not UTC's: from 16:00 UTC they differ.
    from portal.transparency.dashboard.views import today

    with app.test_request_context("/"):
        day = today()
    start, end = (day - timedelta(days=40)).isoformat(), day.isoformat()
    behind = client.get(
        f"/dashboard/cases?kind=response&outcome=on_time&start={start}&end={end}"
        f"&agency={case.agency.code}"
    ).get_data(as_text=True)
    assert case.number in behind
    city_wide = client.get(
        f"/dashboard/cases?kind=response&outcome=on_time&start={start}&end={end}"
    ).get_data(as_text=True)
    assert case.number in city_wide
    assert client.get("/dashboard/methods").status_code == 200
    assert client.get(f"/dashboard?agency={case.agency.code}").status_code == 200
    assert client.get("/dashboard?district=110101").status_code == 200


@pytest.mark.parametrize(
    "query, field",
    [
        ("period=custom&start=2026-02-01&end=2026-01-01", "end"),
        ("period=custom&start=notadate&end=2026-01-01", "start"),
        ("period=custom", "start"),
        ("community=999999999999", "community"),
    ],
)
def test_bad_choices_are_marked_at_the_field(app, query, field):
    resp = app.test_client().get(f"/dashboard?{query}")
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert f'id="{field}-error"' in html


@pytest.mark.parametrize(
    "query", ["kind=nope&start=2026-01-01&end=2026-01-02", "kind=due&start=x&end=y"]
)
def test_cases_behind_bad_input_is_a_client_error(app, query):
    assert app.test_client().get(f"/dashboard/cases?{query}").status_code == 400


def test_page_does_not_scan_all_rows(app, make_case, count_queries):
    client = app.test_client()
    client.get("/dashboard")
    make_case("accepted")
    with count_queries() as few:
        client.get("/dashboard?period=year")
    for _ in range(3):
        make_case("accepted")
    with count_queries() as many:
        client.get("/dashboard?period=year")
    assert many.count == few.count


def test_home_and_community_pages_show_headline(app, make_case, community):
    make_case("accepted")
    client = app.test_client()
    for url in ("/", f"/communities/{community.code}"):
        html = client.get(url).get_data(as_text=True)
        assert 'id="dash-headline-h"' in html and "/dashboard" in html


def test_a_returned_case_counts_against_no_agency_until_rerouted(app, make_case):
    case = make_case("returned")
    clock.freeze(case.handling_due_at + timedelta(days=1))
    try:
        with app.test_request_context("/"):
            from portal.transparency.dashboard.rollup import refresh

            refresh([case.proposal_id])
        s = _summary()
    finally:
        clock.freeze(None)
    assert (s["response"].num, s["response"].den) == (1, 1)  # returned in time: a response
    assert s["on_time"].den == 0 and s["on_time"].extra["unrecorded"] == 0


def test_agency_pages_show_headline_and_link_the_dashboard(app, make_case, login_as, client):
    case = make_case("accepted")
    html = app.test_client().get(f"/cases/{case.number}").get_data(as_text=True)
    assert f"/dashboard?agency={case.agency.code}" in html
    login_as("liaison.health-commission@example.org")
    html = client.get(f"/workspace/agency/{case.agency.code}").get_data(as_text=True)
    assert 'id="dash-headline-h"' in html


def test_a_period_is_whole_months_and_edge_days():
    d = date
    assert F.period_pieces(d(2026, 1, 1), d(2026, 12, 31)) == [
        ("m", d(2026, 1, 1), d(2026, 12, 31))
    ]
    assert F.period_pieces(d(2026, 1, 1), d(2026, 12, 7)) == [
        ("m", d(2026, 1, 1), d(2026, 11, 30)),
        ("d", d(2026, 12, 1), d(2026, 12, 7)),
    ]
    assert F.period_pieces(d(2026, 11, 8), d(2026, 12, 7)) == [
        ("d", d(2026, 11, 8), d(2026, 12, 7))
    ]
    assert F.period_pieces(d(2026, 1, 31), d(2026, 4, 1)) == [
        ("m", d(2026, 2, 1), d(2026, 3, 31)),
        ("d", d(2026, 1, 31), d(2026, 1, 31)),
        ("d", d(2026, 4, 1), d(2026, 4, 1)),
    ]
    assert F.period_pieces(d(2026, 2, 1), d(2026, 2, 28)) == [("m", d(2026, 2, 1), d(2026, 2, 28))]
    assert F.period_pieces(d(2026, 2, 2), d(2026, 2, 27)) == [("d", d(2026, 2, 2), d(2026, 2, 27))]
    assert F.period_pieces(d(2025, 12, 31), d(2026, 1, 1)) == [
        ("d", d(2025, 12, 31), d(2026, 1, 1))
    ]


def test_any_period_and_scope_reads_what_the_facts_sum_to(app, community, community_b):
    """Facts on hand-picked days around month ends, read back for periods that cut months
    anywhere and for every scope: the rollup gives exactly the facts' sums."""
    from portal.places.models import District, Street
    from portal.roles.models import Agency
    from portal.transparency.dashboard import rollup

    agencies = list(_db.session.scalars(sa.select(Agency).order_by(Agency.id).limit(2)))
    a1, a2 = (a.id for a in agencies)
    c1, c2 = community.id, community_b.id
    days = [date(2001, 12, 31), date(2002, 1, 1), date(2002, 1, 15), date(2002, 1, 31)]
    days += [date(2002, 2, 1), date(2002, 2, 28), date(2002, 3, 1), date(2002, 4, 10)]
    facts = []  # (KEY tuple, n, answers, satisfied)
    for i, day in enumerate(days):
        c, a, cat = (c1, a1, 1) if i % 2 else (c2, a2, 2)
        facts += [
            ((day, "opened", "filed", c, a, cat, 0), 1 + i, 0, 0),
            ((day, "closed", "clean", c, a, cat, bucket_of(i + 1)), 1, 2, 1),
            ((day, "due", "on_time" if i % 3 else "late", c, a, cat, 0), 2, 0, 0),
            ((day, "submitted", "opened", c, 0, cat, 0), 3, 0, 0),
        ]
    with app.test_request_context("/"):
        rollup._apply_to_rollup({key: [n, ans, sat] for key, n, ans, sat in facts})
        district = _db.session.scalar(
            sa.select(District)
            .join(Street, Street.district_id == District.id)
            .where(Street.id == community.street_id)
        )
        in_district = {
            c
            for c in (c1, c2)
            if c == c1 or community_b.street.district_id == community.street.district_id
        }
        scopes = [
            (F.Scope("city"), lambda f: True),
            (F.Scope("community", community), lambda f: f[3] == c1),
            (F.Scope("community", community_b), lambda f: f[3] == c2),
            (F.Scope("district", district), lambda f: f[3] in in_district),
            (F.Scope("agency", agencies[0]), lambda f: f[4] == a1),
        ]
        periods = [
            (date(2001, 12, 1), date(2002, 12, 31)),
            (date(2001, 12, 31), date(2002, 4, 10)),
            (date(2002, 1, 15), date(2002, 2, 28)),
            (date(2002, 2, 1), date(2002, 2, 28)),
            (date(2002, 1, 31), date(2002, 2, 1)),
            (date(2002, 1, 2), date(2002, 3, 30)),
            (date(2002, 3, 2), date(2002, 3, 31)),
        ]
        for scope, belongs in scopes:
            for start, end in periods:
                mine = [f for f in facts if belongs(f[0]) and start <= f[0][0] <= end]
                want: dict = {}
                for key, n, *_ in mine:
                    want[key[1:3]] = want.get(key[1:3], 0) + n
                got = {(k, o): n for k, o, n, *_ in F._sums(scope, start, end) if n}
                assert got == want, (scope.level, start, end)
                opened_by_cat: dict = {}
                opened_by_agency: dict = {}
                for key, n, *_ in mine:
                    if key[1] == "opened":
                        opened_by_cat[key[5]] = opened_by_cat.get(key[5], 0) + n
                        opened_by_agency[key[4]] = opened_by_agency.get(key[4], 0) + n
                assert {c: n for c, n, *_ in F.by_category(scope, start, end)} == opened_by_cat
                league = F.by_agency(scope, start, end)
                assert {a: f["opened"] for a, f in league.items()} == opened_by_agency
                months = {m["month"]: m["opened"] for m in F.monthly(scope, start, end)}
                for key, n, *_ in mine:
                    if key[1] == "opened":
                        months[key[0].strftime("%Y-%m")] -= n
                assert set(months.values()) <= {0}, (scope.level, start, end)
                s = F.summary(scope, start, end, clock.now())
                answers = sum(a for key, _n, a, _s in mine if key[1] == "closed")
                assert s["satisfaction"].den == answers


def test_rollup_rows_do_not_grow_with_cases_alike(app, make_case):
    """Cases of one day, community, agency and category add to the same rows."""

    def rows():
        return _db.session.scalar(sa.select(sa.func.count()).select_from(DashboardRollup))

    make_case("accepted")
    one = rows()
    for _ in range(3):
        make_case("accepted")
    assert rows() == one
    assert len(KEY) == 7


def test_sort_links_keep_the_forms_choices_and_nothing_else(app, make_case):
    """The league table's sort links carry the form's choices only: an address with url_for's
    own options (``_anchor``, ``_external``) or anything else gets the page, its links
    relative and without them."""
    from portal.transparency.dashboard.forms import DashboardForm
    from portal.transparency.dashboard.views import FORM_KEYS

    make_case("accepted")
    client = app.test_client()
    resp = client.get("/dashboard?period=year&_anchor=x&_external=1&_scheme=https&junk=1")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "sort=name" in html and "period=year" in html
    league = html.split('<table class="stack league"')[1].split("</table>")[0]
    assert "_anchor" not in league and "junk" not in league and "http" not in league
    with app.test_request_context("/dashboard"):
        assert set(FORM_KEYS) == {f.name for f in DashboardForm() if f.name != "csrf_token"}


def test_a_query_url_maker_leaves_url_fors_options_to_url_for(app):
    from flask import url_for

    from portal.core.urls import query_url_maker

    with app.test_request_context("/"):
        link = query_url_maker("dashboard.index")
        assert link(sort="name", _anchor="x") == url_for(
            "dashboard.index", sort="name", _anchor="x"
        )
        assert link(sort="name", _anchor="x").endswith("#x")
