"""Grid cases: routing, working days, filing once, every transition and refusal, verification,
the close/reopen rule, the overdue sweep, public pages and the API."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from portal.cases import services as cases
from portal.cases.calendar import add_working_days, set_day
from portal.cases.models import Case, CaseEvent, CaseFeedback, CaseState
from portal.core import clock
from portal.core.i18n import force_locale
from portal.notifications.models import Notification
from portal.notifications.services import title as notification_title
from portal.places.models import Street
from portal.proposals.models import Category
from portal.roles.models import Agency
from tests.cases.conftest import LIAISON
from tests.conftest import user_by_email

TZ = "Asia/Shanghai"


def _cat(db, code):
    return db.session.scalar(sa.select(Category).where(Category.code == code))


def _agency(db, code):
    return db.session.scalar(sa.select(Agency).where(Agency.code == code))


# --- routing ---------------------------------------------------------------------------------


def test_routing_by_category_with_district_fallback(db, community, app):
    assert cases.route(_cat(db, "health"), community).code == "health-commission"
    assert cases.route(_cat(db, "safety"), community).code == "public-security-bureau"
    # A new category without its own rule falls back to the street office.
    new = Category(code="noise", name_zh="噪音", name_en="Noise", position=99)
    db.session.add(new)
    db.session.flush()
    assert cases.route(new, community).code == "street-office"


def test_most_specific_place_wins(db, community, app):
    health = _cat(db, "health")
    street = db.session.get(Street, community.street_id)
    cases.set_rule(None, health, street, _agency(db, "civil-affairs-bureau"))
    assert cases.route(health, community).code == "civil-affairs-bureau"
    cases.set_rule(None, health, community, _agency(db, "street-office"))
    assert cases.route(health, community).code == "street-office"
    with pytest.raises(cases.CaseError):
        cases.set_rule(None, None, community, _agency(db, "street-office"))


# --- working days ----------------------------------------------------------------------------


def test_working_days_skip_weekends_holidays_and_count_makeup_days(db):
    # Friday 2026-09-25 10:00 in Beijing.
    friday = datetime(2026, 9, 25, 2, 0, tzinfo=UTC)
    # One working day later is the end of Monday, Beijing time.
    assert add_working_days(friday, 1, TZ) == datetime(2026, 9, 28, 15, 59, 59, tzinfo=UTC)
    # National Day week: 1–7 October off, Sunday 27 September and Saturday 10 October worked.
    for d in range(1, 8):
        set_day(date(2026, 10, d), False, "国庆节")
    set_day(date(2026, 9, 27), True, "调休")
    set_day(date(2026, 10, 10), True, "调休")
    assert add_working_days(friday, 1, TZ) == datetime(2026, 9, 27, 15, 59, 59, tzinfo=UTC)
    # From 30 September, 2 working days: 8 and 9 October.
    sept30 = datetime(2026, 9, 30, 2, 0, tzinfo=UTC)
    assert add_working_days(sept30, 2, TZ) == datetime(2026, 10, 9, 15, 59, 59, tzinfo=UTC)
    assert add_working_days(sept30, 3, TZ) == datetime(2026, 10, 10, 15, 59, 59, tzinfo=UTC)


def test_calendar_cli(app, db):
    r = app.test_cli_runner().invoke(args=["calendar", "set", "2026-10-01", "holiday", "国庆"])
    assert r.exit_code == 0, r.output
    from portal.cases.models import CalendarDay

    assert db.session.get(CalendarDay, date(2026, 10, 1)).is_workday is False


# --- filing ----------------------------------------------------------------------------------


def test_qualifying_files_and_dispatches_one_case(make_case, db, app):
    case = make_case("dispatched")
    assert re.fullmatch(r"110101001001-\d{4}-\d{5}", case.number)
    assert case.agency.code == "health-commission"
    assert case.stage_due_at is not None and case.handling_due_at > case.stage_due_at
    actions = [e.action for e in cases.timeline(case)]
    assert actions == ["file", "dispatch"]
    liaison = user_by_email(LIAISON)
    assert db.session.scalar(
        sa.select(Notification).where(
            Notification.user_id == liaison.id, Notification.type == "case_assigned"
        )
    )
    author_note = db.session.scalar(
        sa.select(Notification).where(
            Notification.user_id == case.proposal.author_id,
            Notification.type == "case_dispatched",
        )
    )
    assert author_note is not None
    # The author is told where it went, in each language, once it happened.
    with app.test_request_context("/"), force_locale("zh_Hans"):
        assert f"{case.number}，派发至{case.agency.name_zh}" in notification_title(author_note)
    with app.test_request_context("/"), force_locale("en"):
        assert f"dispatched to {case.agency.name_en}" in notification_title(author_note)


def test_case_numbers_run_per_community_and_year(make_case, community_b):
    a = make_case()
    b = make_case()
    c = make_case(community_=community_b)
    seq = lambda case: int(case.number.rsplit("-", 1)[1])  # noqa: E731
    assert seq(b) == seq(a) + 1
    assert c.number.startswith("110101001002-") and seq(c) == 1


def test_a_proposal_becomes_a_case_once(make_case, db):
    case = make_case()
    with pytest.raises(sa.exc.IntegrityError), db.session.begin_nested():
        db.session.add(
            Case(
                number="x",
                proposal_id=case.proposal_id,
                community_id=case.community_id,
                year=2026,
                sequence=999,
                category_id=case.category_id,
                agency_id=case.agency_id,
                state=CaseState.dispatched,
                handling_due_at=clock.now(),
            )
        )
        db.session.flush()


def test_proposal_page_links_to_case(make_case, app):
    case = make_case()
    html = app.test_client().get(f"/proposals/{case.proposal_id}").get_data(as_text=True)
    assert f"/cases/{case.number}" in html
    api = app.test_client().get(f"/api/v1/proposals/{case.proposal_id}").get_json()
    assert api["case_number"] == case.number


# --- transitions -----------------------------------------------------------------------------


def _act(app, who, case, action, **kw):
    with app.test_request_context("/"):
        cases.act(user_by_email(who), case, action, **kw)


def test_full_loop_through_the_api(app, make_case, client, api_token, db):
    case = make_case()
    url = f"/api/v1/cases/{case.number}/actions"
    liaison = api_token(LIAISON)
    r = client.post(url, json={"action": "accept"}, headers=liaison)
    assert r.status_code == 200 and r.get_json()["state"] == "accepted"
    expected = (clock.now() + timedelta(days=3)).isoformat()
    r = client.post(
        url, json={"action": "plan", "note": "下周更换", "expected_at": expected}, headers=liaison
    )
    assert r.get_json()["state"] == "in_progress"
    r = client.post(url, json={"action": "progress", "note": "已订购灯具"}, headers=liaison)
    assert r.status_code == 200
    r = client.post(url, json={"action": "resolve", "note": "路灯已修好"}, headers=liaison)
    body = r.get_json()
    assert body["state"] == "verifying" and body["official_response"] == "路灯已修好"
    r = client.post(
        url,
        json={"action": "verify", "passed": True, "note": "现场已亮"},
        headers=api_token("gridworker@example.org"),
    )
    assert r.status_code == 200 and r.get_json()["verify_passed"] is True
    fb = f"/api/v1/cases/{case.number}/feedback"
    r = client.post(
        fb,
        json={"solved": True, "satisfaction": 5, "comment": "谢谢"},
        headers=api_token("resident2"),
    )
    assert r.status_code == 201 and r.get_json()["verification"]["solved_yes"] == 1
    clock.freeze(clock.now() + timedelta(days=10))
    result = app.test_cli_runner().invoke(args=["cases", "sweep"])
    assert "1 closed" in result.output, result.output
    detail = client.get(f"/api/v1/cases/{case.number}").get_json()
    assert detail["state"] == "closed" and detail["close_reason"] == "resolved"
    assert [t["action"] for t in detail["timeline"]] == [
        "file",
        "dispatch",
        "accept",
        "plan",
        "progress",
        "resolve",
        "verify",
        "close",
    ]
    assert detail["verification"] == {"solved_yes": 1, "solved_no": 0, "satisfaction_avg": 5.0}


def test_wrong_role_is_403_and_wrong_state_409(make_case, client, api_token):
    case = make_case()
    url = f"/api/v1/cases/{case.number}/actions"
    other_agency = api_token("liaison.street-office@example.org")
    r = client.post(url, json={"action": "accept"}, headers=other_agency)
    assert r.status_code == 403
    r = client.post(url, json={"action": "accept"}, headers=api_token("resident2"))
    assert r.status_code == 403
    r = client.post(url, json={"action": "resolve", "note": "x"}, headers=api_token(LIAISON))
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "invalid_transition"
    r = client.post(url, json={"action": "fly"}, headers=api_token(LIAISON))
    assert r.status_code == 400
    assert client.post(url, json={"action": "accept"}).status_code == 401


def test_notes_are_required_where_listed(make_case, client, api_token):
    case = make_case()
    url = f"/api/v1/cases/{case.number}/actions"
    r = client.post(url, json={"action": "return"}, headers=api_token(LIAISON))
    assert r.status_code == 400 and "note" in r.get_json()["error"]["fields"]


def test_return_and_reroute(make_case, client, api_token, db):
    case = make_case("returned")
    url = f"/api/v1/cases/{case.number}/actions"
    sup = api_token("supervisor@example.org")
    r = client.post(
        url, json={"action": "reroute", "note": "转民政", "agency_code": "nope"}, headers=sup
    )
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "unknown_agency"
    r = client.post(
        url,
        json={"action": "reroute", "note": "转民政", "agency_code": "health-commission"},
        headers=sup,
    )
    assert r.status_code == 400
    r = client.post(
        url,
        json={"action": "reroute", "note": "转民政", "agency_code": "civil-affairs-bureau"},
        headers=sup,
    )
    assert r.status_code == 200
    body = r.get_json()
    assert body["state"] == "dispatched" and body["agency"]["code"] == "civil-affairs-bureau"
    r = client.post(url, json={"action": "accept"}, headers=api_token(LIAISON))
    assert r.status_code == 403  # the old agency no longer acts on it


def test_reroute_stays_in_the_cases_district_api(make_case, client, api_token, db, other_district):
    _district, xicheng, xicheng_supervisor = other_district
    case = make_case("returned")
    url = f"/api/v1/cases/{case.number}/actions"
    move = {"action": "reroute", "note": "转西城", "agency_code": xicheng.code}
    r = client.post(url, json=move, headers=api_token("supervisor@example.org"))
    assert r.status_code == 409
    error = r.get_json()["error"]
    assert error["code"] == "agency_out_of_scope" and "agency_code" in error["fields"]
    # Nor may the other district's supervisor pull the case over to their own agency.
    r = client.post(url, json=move, headers=api_token(xicheng_supervisor))
    assert r.status_code == 403
    db.session.refresh(case)
    assert case.state == CaseState.returned and case.agency.code == "health-commission"


def test_reroute_form_offers_only_the_districts_agencies(
    make_case, app, login_as, db, other_district
):
    _district, xicheng, _supervisor = other_district
    case = make_case("returned")
    client = app.test_client()
    login_as("supervisor", client)
    page = f"/cases/{case.number}"
    html = client.get(page).get_data(as_text=True)
    assert 'value="civil-affairs-bureau"' in html
    assert xicheng.code not in html and 'value="health-commission"' not in html
    r = client.form(
        f"/cases/{case.number}/actions",
        {"act-action": "reroute", "act-note": "转西城", "act-agency_code": xicheng.code},
        page=page,
    )
    # Refused at the agency field, on the case page again, with the note as typed.
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert 'id="act-reroute-agency-error"' in html and "转西城</textarea>" in html
    db.session.refresh(case)
    assert case.state == CaseState.returned and case.agency.code == "health-commission"


def test_plan_dates_and_extensions(make_case, client, api_token, db):
    case = make_case("accepted")
    url = f"/api/v1/cases/{case.number}/actions"
    liaison = api_token(LIAISON)
    past = (clock.now() - timedelta(hours=1)).isoformat()
    r = client.post(url, json={"action": "plan", "note": "x", "expected_at": past}, headers=liaison)
    assert r.status_code == 400 and "expected_at" in r.get_json()["error"]["fields"]
    late = (case.handling_due_at + timedelta(days=5)).isoformat()
    r = client.post(url, json={"action": "plan", "note": "x", "expected_at": late}, headers=liaison)
    assert r.status_code == 400
    r = client.post(
        url, json={"action": "plan", "note": "x", "expected_at": "tomorrow"}, headers=liaison
    )
    assert r.status_code == 400
    r = client.post(
        url,
        json={"action": "request_extension", "note": "需要采购", "expected_at": late},
        headers=liaison,
    )
    assert r.status_code == 200
    r = client.post(
        url,
        json={"action": "request_extension", "note": "again", "expected_at": late},
        headers=liaison,
    )
    assert r.status_code == 409
    sup = api_token("supervisor@example.org")
    r = client.post(url, json={"action": "approve_extension"}, headers=sup)
    assert r.status_code == 200
    r = client.post(url, json={"action": "plan", "note": "x", "expected_at": late}, headers=liaison)
    assert r.status_code == 200 and r.get_json()["state"] == "in_progress"
    r = client.post(url, json={"action": "deny_extension"}, headers=sup)
    assert r.status_code == 409  # nothing is waiting


def test_failed_site_check_reopens_at_once(make_case, client, api_token):
    case = make_case("verifying")
    r = client.post(
        f"/api/v1/cases/{case.number}/actions",
        json={"action": "verify", "passed": False, "note": "灯仍不亮"},
        headers=api_token("gridworker@example.org"),
    )
    body = r.get_json()
    assert body["state"] == "in_progress" and body["reopen_count"] == 1
    assert body["timeline"][-1]["action"] == "reopen"


def test_grid_worker_of_another_community_cannot_verify(
    make_case, client, api_token, db, make_user
):
    case = make_case("verifying")
    outsider = make_user()
    from portal.roles.models import Role
    from portal.roles.services import grant

    grant(None, outsider, Role.grid_worker, "110101001002")
    db.session.commit()
    r = client.post(
        f"/api/v1/cases/{case.number}/actions",
        json={"action": "verify", "passed": True, "note": "ok"},
        headers=api_token(outsider),
    )
    assert r.status_code == 403


def test_majority_of_supporters_saying_no_reopens(app, make_case, client, api_token, db):
    case = make_case("verifying")
    _act(app, "gridworker@example.org", case, "verify", passed=True, note="ok")
    db.session.commit()
    fb = f"/api/v1/cases/{case.number}/feedback"
    r = client.post(fb, json={"solved": False, "satisfaction": 1}, headers=api_token("resident2"))
    assert r.status_code == 201
    clock.freeze(clock.now() + timedelta(days=10))
    with app.test_request_context("/"):
        done = cases.sweep()
    db.session.commit()
    assert done["reopened"] == 1
    db.session.refresh(case)
    assert case.state == CaseState.in_progress and case.reopen_count == 1


def test_feedback_rules(make_case, client, api_token):
    case = make_case("accepted")
    fb = f"/api/v1/cases/{case.number}/feedback"
    r = client.post(fb, json={"solved": True, "satisfaction": 4}, headers=api_token("resident2"))
    assert r.status_code == 409  # not being verified yet
    case = make_case("verifying")
    fb = f"/api/v1/cases/{case.number}/feedback"
    r = client.post(
        fb, json={"solved": True, "satisfaction": 4}, headers=api_token("resident3@example.org")
    )
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "not_a_supporter"
    for bad in (
        {"solved": "yes", "satisfaction": 4},
        {"solved": True, "satisfaction": 6},
        {"solved": True},
    ):
        assert client.post(fb, json=bad, headers=api_token("resident2")).status_code == 400
    assert (
        client.post(
            fb, json={"solved": True, "satisfaction": 4}, headers=api_token("resident2")
        ).status_code
        == 201
    )
    r = client.post(fb, json={"solved": True, "satisfaction": 4}, headers=api_token("resident2"))
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "already_answered"


def test_no_output_reveals_who_gave_feedback(app, make_case, client, api_token, db):
    case = make_case("verifying")
    client.post(
        f"/api/v1/cases/{case.number}/feedback",
        json={"solved": True, "satisfaction": 5, "comment": "秘密评论"},
        headers=api_token("resident2"),
    )
    name = user_by_email("resident2@example.org").display_name
    for url in (f"/cases/{case.number}", f"/api/v1/cases/{case.number}", "/api/v1/cases", "/cases"):
        text = client.get(url).get_data(as_text=True)
        assert name not in text and "秘密评论" not in text, url
    assert db.session.scalar(sa.select(sa.func.count(CaseFeedback.id))) >= 1


def test_supervisor_closes_with_a_reason(make_case, client, api_token):
    case = make_case("dispatched")
    url = f"/api/v1/cases/{case.number}/actions"
    sup = api_token("supervisor@example.org")
    r = client.post(url, json={"action": "close", "note": "重复"}, headers=sup)
    assert r.status_code == 400
    r = client.post(
        url,
        json={"action": "close", "note": "与另一案件重复", "reason_code": "duplicate"},
        headers=sup,
    )
    assert r.status_code == 200 and r.get_json()["close_reason"] == "duplicate"
    r = client.post(url, json={"action": "accept"}, headers=api_token(LIAISON))
    assert r.status_code == 409


def test_closing_a_case_sends_case_closed(make_case, client, api_token):
    from portal.cases.signals import case_closed

    case = make_case("dispatched")
    seen = []

    def receiver(sender, **extra):
        seen.append((sender.number, extra["reason"], extra["actor"].email))

    case_closed.connect(receiver)
    try:
        r = client.post(
            f"/api/v1/cases/{case.number}/actions",
            json={"action": "close", "note": "与另一案件重复", "reason_code": "duplicate"},
            headers=api_token("supervisor@example.org"),
        )
    finally:
        case_closed.disconnect(receiver)
    assert r.status_code == 200
    assert seen == [(case.number, "duplicate", "supervisor@example.org")]


# --- overdue ---------------------------------------------------------------------------------


def test_overdue_sweep_is_idempotent_and_read_time_correct(app, make_case, db, client):
    case = make_case("dispatched")
    clock.freeze(case.stage_due_at + timedelta(hours=1))
    assert cases.is_overdue(case)
    r = app.test_cli_runner().invoke(args=["cases", "sweep"])
    assert "1 newly overdue" in r.output, r.output
    r = app.test_cli_runner().invoke(args=["cases", "sweep"])
    assert "0 newly overdue" in r.output
    sup = user_by_email("supervisor@example.org")
    assert (
        db.session.scalar(
            sa.select(sa.func.count(Notification.id)).where(
                Notification.user_id == sup.id, Notification.type == "case_overdue"
            )
        )
        == 1
    )
    listing = client.get("/api/v1/cases?overdue=true").get_json()["items"]
    assert case.number in [c["number"] for c in listing]


def test_a_read_case_is_overdue_exactly_when_the_overdue_clause_finds_it(make_case, db):
    """One rule: the flag a case page shows and the filter every overdue list runs agree for
    every state, with the stage's limit passed."""
    case = make_case("dispatched")
    past = case.stage_due_at - timedelta(days=400)
    for state in CaseState:
        case.state, case.stage_due_at = state, past
        case.closed_at = past if state == CaseState.closed else None
        db.session.flush()
        found = db.session.scalar(
            sa.select(sa.func.count()).where(Case.id == case.id, cases.overdue_clause())
        )
        assert cases.is_overdue(case) == bool(found), state
    assert not cases.is_overdue(case)  # closed, last of the states


def test_the_dashboards_overdue_count_matches_the_overdue_cases_of_each_scope(
    app, make_case, community, community_b, db
):
    """``overdue_now`` runs one statement per level of scope, the place bound when it runs."""
    from portal.places.models import District
    from portal.transparency.dashboard import figures as F

    here, there = make_case("dispatched"), make_case("dispatched", community_=community_b)
    clock.freeze(max(here.stage_due_at, there.stage_due_at) + timedelta(hours=1))
    district = db.session.get(District, community.street.district_id)
    in_district = {c for c in (community, community_b) if c.street.district_id == district.id}
    scopes = [
        (F.Scope("city"), {here, there}),
        (F.Scope("community", community), {here}),
        (F.Scope("community", community_b), {there}),
        (F.Scope("district", district), {c for c in (here, there) if c.community in in_district}),
        (F.Scope("agency", here.agency), {c for c in (here, there) if c.agency == here.agency}),
    ]
    for scope, expected in scopes:
        assert F.overdue_now(scope, clock.now()) == len(expected), scope.level
    earliest = min(here.stage_due_at, there.stage_due_at)
    assert F.overdue_now(F.Scope("city"), earliest - timedelta(hours=1)) == 0


# --- pages -----------------------------------------------------------------------------------


def test_public_pages_and_workspaces(app, make_case, login_as, db):
    case = make_case("verifying")
    anon = app.test_client()
    index = anon.get("/cases").get_data(as_text=True)
    assert case.number in index
    page = anon.get(f"/cases/{case.number}").get_data(as_text=True)
    assert "已更换灯泡" in page and case.agency.name_zh in page and "timeline" in page
    assert anon.get("/cases?state=bogus").status_code == 400
    assert anon.get("/cases/nope").status_code == 404
    liaison = app.test_client()
    login_as(LIAISON, liaison)
    assert liaison.get("/workspace/agency/health-commission?tab=all").status_code == 200
    worker = app.test_client()
    login_as("grid_worker", worker)
    assert case.number in worker.get("/workspace/grid").get_data(as_text=True)
    sup = app.test_client()
    login_as("supervisor", sup)
    assert sup.get("/workspace/supervisor/110101?tab=overdue").status_code == 200


def test_liaison_accepts_with_one_click(app, make_case, login_as, db):
    case = make_case("dispatched")
    client = app.test_client()
    login_as(LIAISON, client)
    ws = "/workspace/agency/health-commission"
    make_case("dispatched")  # two accept forms and the header's sign-out form on one page
    html = client.get(ws).get_data(as_text=True)
    assert case.number in html and html.count('name="act-csrf_token"') == 2
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), "duplicate ids"
    r = client.form(f"/cases/{case.number}/actions", {"act-action": "accept", "back": ws}, page=ws)
    assert r.status_code == 302 and r.headers["Location"] == ws
    db.session.refresh(case)
    assert case.state == CaseState.accepted


def test_supporter_answers_on_the_case_page(app, make_case, login_as, db):
    case = make_case("verifying")
    client = app.test_client()
    login_as("resident2", client)
    page = f"/cases/{case.number}"
    assert 'name="fb-solved"' in client.get(page).get_data(as_text=True)
    client.form(
        f"/cases/{case.number}/feedback", {"fb-solved": "yes", "fb-satisfaction": "4"}, page=page
    )
    assert (
        db.session.scalar(
            sa.select(sa.func.count(CaseFeedback.id)).where(CaseFeedback.case_id == case.id)
        )
        == 1
    )


def test_every_step_notifies_author_and_supporters(app, make_case, db):
    case = make_case("verifying")
    supporter = user_by_email("resident2@example.org")
    kinds = db.session.scalars(
        sa.select(Notification.type).where(
            Notification.user_id == supporter.id, Notification.subject_type == "cases"
        )
    ).all()
    assert kinds.count("case_step") >= 3 and "case_feedback_wanted" in kinds
    events = db.session.scalar(
        sa.select(sa.func.count(CaseEvent.id)).where(CaseEvent.case_id == case.id)
    )
    assert events == 5


def test_site_check_is_recorded_once_per_round(make_case, client, api_token):
    case = make_case("verifying")
    url = f"/api/v1/cases/{case.number}/actions"
    worker = api_token("gridworker@example.org")
    assert (
        client.post(
            url, json={"action": "verify", "passed": True, "note": "ok"}, headers=worker
        ).status_code
        == 200
    )
    r = client.post(
        url, json={"action": "verify", "passed": False, "note": "改主意"}, headers=worker
    )
    assert r.status_code == 409


def test_site_check_with_photos(app, make_case, login_as, db, tmp_path):
    import io

    from PIL import Image

    from portal.cases.models import CasePhoto

    app.config["MEDIA_ROOT"] = str(tmp_path)
    case = make_case("verifying")
    img = Image.new("RGB", (1200, 900), (10, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "FieldPhone"
    raw = io.BytesIO()
    img.save(raw, "JPEG", exif=exif)
    client = app.test_client()
    login_as("grid_worker", client)
    page = f"/cases/{case.number}"
    data = {
        "act-action": "verify",
        "act-passed": "yes",
        "act-note": "现场已修复",
        "csrf_token": client.csrf_token(page),
        "act-photos": [(io.BytesIO(raw.getvalue()), "site.jpg")],
    }
    r = client.post(f"/cases/{case.number}/actions", data=data, content_type="multipart/form-data")
    assert r.status_code == 302
    row = db.session.scalar(sa.select(CasePhoto).where(CasePhoto.case_id == case.id))
    assert row is not None and row.event_id is not None
    html = app.test_client().get(page).get_data(as_text=True)
    assert f"/cases/{case.number}/photos/{row.id}" in html
    with app.test_client().get(f"/cases/{case.number}/photos/{row.id}") as served:
        assert served.status_code == 200 and b"FieldPhone" not in served.data
        assert served.cache_control.public and served.cache_control.max_age <= 60
    bad = {
        "act-action": "verify",
        "act-passed": "yes",
        "act-note": "x",
        "csrf_token": client.csrf_token(page),
        "act-photos": [(io.BytesIO(b"not an image"), "x.jpg")],
    }
    case2 = make_case("verifying")
    client.post(f"/cases/{case2.number}/actions", data=bad, content_type="multipart/form-data")
    db.session.refresh(case2)
    assert case2.verify_passed is None  # nothing half-done


def _walk(client, url):
    """Follow a workspace's "more" links; returns the case numbers of every page, in order."""
    seen, pages = [], 0
    while url:
        html = client.get(url).get_data(as_text=True)
        seen += re.findall(r'href="/cases/([0-9]+-[0-9]+-[0-9]+)"', html)
        more = re.search(r'<a rel="next" href="([^"]+)"', html)
        url = more.group(1).replace("&amp;", "&") if more else None
        pages += 1
        assert pages < 20
    return seen, pages


def test_workspaces_paginate_by_keyset(app, make_case, login_as, db, monkeypatch, count_queries):
    from portal.cases import views

    made = [make_case("dispatched") for _ in range(5)]
    # Two share a due time: the id breaks the tie, and neither is lost between pages.
    made[1].stage_due_at = made[2].stage_due_at
    db.session.commit()
    monkeypatch.setattr(views, "WORKSPACE_PAGE", 2)
    client = app.test_client()
    login_as(LIAISON, client)
    ws = "/workspace/agency/health-commission"
    newest, pages = _walk(client, f"{ws}?tab=all")
    assert pages == 3
    assert newest == [c.number for c in sorted(made, key=lambda c: c.id, reverse=True)]
    by_due, _pages = _walk(client, f"{ws}?tab=new")
    expected = sorted(made, key=lambda c: (c.stage_due_at, c.id))
    assert by_due == [c.number for c in expected]
    # A page costs the same queries however many cases it shows.
    with count_queries() as small:
        client.get(f"{ws}?tab=all")
    monkeypatch.setattr(views, "WORKSPACE_PAGE", 5)
    with count_queries() as large:
        client.get(f"{ws}?tab=all")
    assert small.count == large.count
    for bad in ("?tab=all&after=x", "?tab=new&after=nonsense~1", "?tab=new&after=2026-01-01~1"):
        assert client.get(ws + bad).status_code == 400
    grid = app.test_client()
    login_as("grid_worker", grid)
    assert grid.get("/workspace/grid?after=~x").status_code == 400


def test_an_empty_workspace_tab_says_the_list_is_empty_and_leads_to_all(app, make_case, login_as):
    case = make_case("accepted")  # in hand, so not "new"
    liaison = app.test_client()
    login_as("liaison", liaison)
    html = liaison.get("/workspace/agency/health-commission?tab=new").get_data(as_text=True)
    empty = html.split('class="empty"')[1].split("</p>")[0]
    assert "此列表暂无案件" in empty
    assert 'href="/workspace/agency/health-commission?tab=all"' in empty
    everything = liaison.get("/workspace/agency/health-commission?tab=all").get_data(as_text=True)
    assert f'href="/cases/{case.number}"' in everything


def test_case_list_narrows_to_a_district(app, make_case, db, client):
    """The page and the API take a district code; the dashboard's "overdue now" of a district
    links to the same cases it counts."""
    from portal.places.models import City, District

    case = make_case("dispatched")
    city = db.session.scalar(sa.select(City))
    db.session.add(District(city_id=city.id, code="110102", name_zh="西城区", name_en="Xicheng"))
    db.session.commit()
    listing = client.get("/api/v1/cases?district=110101").get_json()["items"]
    assert case.number in [c["number"] for c in listing]
    assert client.get("/api/v1/cases?district=110102").get_json()["items"] == []
    r = client.get("/api/v1/cases?district=999999")
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid_parameter"
    page = client.get("/cases?district=110101").get_data(as_text=True)
    assert case.number in page and '<option value="110101" selected>' in page
    assert case.number not in client.get("/cases?district=110102").get_data(as_text=True)
    assert client.get("/cases?district=999999").status_code == 400
    clock.freeze(case.stage_due_at + timedelta(hours=1))
    try:
        dash = client.get("/dashboard?district=110101").get_data(as_text=True)
        link = "/cases?overdue=true&amp;district=110101"
        assert link in dash
        overdue = client.get("/api/v1/cases?overdue=true&district=110101").get_json()["items"]
        assert [c["number"] for c in overdue] == [case.number]
    finally:
        clock.freeze(None)


def test_links_to_more_never_take_url_fors_options_from_the_address(app, make_case, monkeypatch):
    """The "older cases" link carries the list's filters, never ``_external``/``_scheme``/
    ``_anchor`` from the address: url_for would take them as its own options, and
    ``?_external=1&_scheme=javascript&x=%0Aalert(1)`` built a ``javascript:`` link."""
    import re
    from html import unescape

    from portal.cases import views as case_views

    monkeypatch.setattr(case_views, "PAGE_SIZE", 1)
    make_case("dispatched")
    make_case("accepted")
    html = (
        app.test_client()
        .get("/cases?_external=1&_scheme=javascript&_anchor=a&x=%0Aalert(1)&state=")
        .get_data(as_text=True)
    )
    more = re.search(r'<a rel="next" href="([^"]+)"', html)
    assert more
    link = unescape(more.group(1))
    assert link.startswith("/cases?") and "_" not in link.split("?")[1].split("=")[0]
    assert "javascript" not in link and "#" not in link and "x=%0Aalert" in link


def test_query_args_leave_out_what_is_asked_and_url_fors_options(app):
    from portal.core.urls import query_args

    with app.test_request_context("/?a=1&cursor=c&_external=1&_scheme=x&_anchor=y&_method=GET"):
        assert query_args("cursor") == {"a": "1"}
        assert query_args() == {"a": "1", "cursor": "c"}


def test_notifications_read_the_stages_of_cases_and_of_proposals_cases_at_once(
    app, make_case, db, count_queries
):
    """``case_stages``: a page of notifications names cases by their id or by their proposal;
    both are read in one statement, with what ``stage_text`` says of the case object."""
    a, b = make_case("dispatched"), make_case("dispatched")
    b.state, b.close_reason, b.closed_at = CaseState.closed, "resolved", clock.now()
    a.state, a.reopen_count = CaseState.in_progress, 1  # back for rework
    db.session.commit()
    a_id, b_proposal = a.id, b.proposal_id
    with app.test_request_context("/"):
        with count_queries() as q:
            by_id, by_proposal = cases.case_stages([a_id, 999_999], [b_proposal, 888_888])
        assert q.count == 1
        assert set(by_id) == {a.id} and set(by_proposal) == {b.proposal_id}
        assert cases.stage_text(by_id[a.id]) == cases.stage_text(a)
        assert cases.stage_text(by_proposal[b.proposal_id]) == cases.stage_text(b)
        assert cases.stage_text(by_proposal[b.proposal_id]).startswith("已结案")
        assert cases.stage_text(by_id[a.id]) == cases.stage_text(a) != cases.state_label(a.state)
        with count_queries() as none:
            assert cases.case_stages([], []) == ({}, {})
        assert none.count == 0
        by_id, by_proposal = cases.case_stages([], [a.proposal_id])
        assert by_id == {} and by_proposal[a.proposal_id].id == a.id


def test_case_lists_build_their_statement_once_per_shape(app, client, make_case, monkeypatch):
    """The public list and the API read a page with a statement built once per set of
    filters, their values bound: two states, one statement object, each its own cases."""
    from portal.cases import cards as case_cards

    dispatched, accepted = make_case("dispatched"), make_case("accepted")
    seen = []
    real = case_cards.list_rows

    def spy(stmt, params=None):
        seen.append(stmt)
        return real(stmt, params)

    monkeypatch.setattr(case_cards, "list_rows", spy)
    first = client.get("/cases?state=dispatched").get_data(as_text=True)
    second = client.get("/cases?state=accepted").get_data(as_text=True)
    assert dispatched.number in first and accepted.number not in first
    assert accepted.number in second and dispatched.number not in second
    assert len(seen) == 2 and seen[0] is seen[1]
    for state, case in (("dispatched", dispatched), ("accepted", accepted)):
        items = client.get(f"/api/v1/cases?state={state}&overdue=false").get_json()["items"]
        assert [i["number"] for i in items] == [case.number]
