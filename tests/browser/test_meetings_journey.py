"""A community meeting's journey in headless Chromium, across four roles: the committee plans a
meeting with a case and a proposal on its agenda, invites the agency, publishes it and puts
the proposal to a vote; the agency's liaison answers in writing; a resident registers, asks a
question, votes and downloads the calendar file; once the meeting has started the committee
publishes the minutes and decisions beside the vote's result, and the decision shows in the
case's timeline. Every page reached is checked by axe-core."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from playwright.sync_api import expect

COMMUNITY = "110101001001"
COMMITTEE = "committee@example.org"
LIAISON = "liaison.health-commission@example.org"
RESIDENT = "resident2@example.org"
# No character bigram in common with the other journeys' texts (the similar-proposals check).
CASE_TITLE = "凉亭顶棚漏雨"
PROPOSAL_TITLE = "晾衣杆挪到向阳处"
MEETING_TITLE = "腊月居民议事会"

pytestmark = pytest.mark.browser


def _prepare(live_server) -> tuple[str, int]:
    """A case of the health commission and an open proposal, both of the community."""
    from sqlalchemy import select

    from portal.accounts.services import find_by_email
    from portal.cases import services as cases
    from portal.extensions import db
    from portal.proposals import services as proposals
    from portal.proposals.models import Category

    with live_server.app.test_request_context("/"):
        author = find_by_email("resident1@example.org")
        committee = find_by_email(COMMITTEE)
        health = db.session.scalar(select(Category).where(Category.code == "health"))
        p = proposals.create(
            author,
            author.community,
            title=CASE_TITLE,
            summary="下雨时凉亭里没法坐人。",
            body="请修补凉亭顶部。",
            category=health,
            submit=True,
        )
        proposals.review(committee, p, "approve")
        p.threshold = 2
        db.session.flush()
        proposals.support(find_by_email(RESIDENT), p)
        case = cases.case_for_proposal(p)
        other = proposals.create(
            author,
            author.community,
            title=PROPOSAL_TITLE,
            summary="冬天背阴处衣服晒不干。",
            body="把晾衣杆挪到南侧。",
            category=health,
            submit=True,
        )
        proposals.review(committee, other, "approve")
        db.session.commit()
        return case.number, other.id


def _t(live_server, tab, message: str, **params) -> str:
    """``message`` as the live app renders it in the tab's language."""
    from flask_babel import gettext

    from portal.core.i18n import force_locale

    locale = {"zh-Hans": "zh_Hans"}.get(tab.html_lang, tab.html_lang)
    with live_server.app.test_request_context("/"), force_locale(locale):
        return gettext(message, **params)


def _tz(live_server) -> ZoneInfo:
    from portal.core.i18n import city_timezone_name

    with live_server.app.test_request_context("/"):
        return ZoneInfo(city_timezone_name())


def test_meeting_is_planned_answered_attended_and_decided(new_tab, live_server, tmp_path):
    from portal.core import clock

    number, proposal_id = _prepare(live_server)
    tz = _tz(live_server)
    start = (clock.now() + timedelta(days=10)).astimezone(tz).replace(second=0, microsecond=0)

    # 1. The committee plans the meeting from its community's meetings page.
    committee = new_tab(locale="en-US")
    committee.sign_in(COMMITTEE)
    committee.visit(f"/communities/{COMMUNITY}")
    committee.follow(committee.page.locator(f"main a[href='/communities/{COMMUNITY}/meetings']"))
    committee.follow(committee.page.locator("main a.button.primary"))
    page = committee.page
    page.locator("#title").fill(MEETING_TITLE)
    page.locator("#description").fill("年终议事。")
    page.locator("#starts_at").fill(start.strftime("%Y-%m-%dT%H:%M"))
    page.locator("#ends_at").fill((start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
    page.locator("#location").fill("社区活动室")
    page.locator("#capacity").fill("20")
    committee.submit(committee.main_button())
    match = re.search(r"/meetings/(\d+)$", page.url)
    assert match, page.url
    meeting_path = f"/meetings/{match.group(1)}"

    # The case, then the proposal, on the agenda.
    page.locator("#item-kind-1").check()
    page.locator("#item-case_number").select_option(number)
    page.locator("#item-note").fill("请承办部门说明进展。")
    committee.submit(page.locator("main form[action$='/items'] button[type=submit]"))
    page.locator("#item-kind-0").check()
    page.locator("#item-proposal_id").select_option(str(proposal_id))
    committee.submit(page.locator("main form[action$='/items'] button[type=submit]"))
    items = page.locator("ol.agenda > li")
    expect(items).to_have_count(2)
    case_item = items.nth(0)
    expect(case_item).to_contain_text(number)
    # The health commission is invited to answer the case in writing (default deadline).
    case_item.locator("summary").click()
    case_item.locator("select[name$='-agency_code']").select_option("health-commission")
    committee.submit(case_item.locator("form[action$='/invitations'] button[type=submit]"))
    expect(page.locator("ol.agenda > li").nth(0).locator("ul.replies")).to_contain_text(
        _t(live_server, committee, "District Health Commission")
        if committee.html_lang == "en"
        else "区卫生健康委员会"
    )
    committee.submit(page.locator("main form[action$='/publish'] button"))
    expect(page.locator(".status")).to_contain_text(
        _t(live_server, committee, "Published, upcoming")
    )

    # The committee puts the proposal's item to a vote of the residents, closing before the
    # meeting starts.
    now = clock.now().astimezone(tz).replace(second=0, microsecond=0)
    committee.follow(page.locator("ol.agenda > li").nth(1).locator("a[href$='/vote']"))
    page.locator("#question").fill("晾衣杆是否挪到南侧？")
    page.locator("#opens_at").fill(now.strftime("%Y-%m-%dT%H:%M"))
    page.locator("#closes_at").fill((start - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    committee.submit(committee.main_button())
    vote_path = urlsplit(page.url).path
    assert re.fullmatch(r"/votes/\d+", vote_path), page.url

    # 2. The liaison finds the invitation from the agency workspace and answers in writing.
    liaison = new_tab(locale="en-US")
    liaison.sign_in(LIAISON)
    liaison.visit("/workspace/agency/health-commission")
    liaison.follow(liaison.page.locator("main a[href$='/invitations']"))
    liaison.follow(liaison.page.locator("main .card-title a").first)
    lp = liaison.page
    lp.locator("#body").fill("我委将于本月内完成凉亭维修。")
    lp.locator("#commitments-0-text").fill("完成维修")
    lp.locator("#commitments-0-due_on").fill((start + timedelta(days=20)).strftime("%Y-%m-%d"))
    lp.locator("#attendee_role").fill("科长")
    liaison.submit(lp.locator("main button[name=publish][value='1']"))
    expect(lp.locator(f"#item-{_first_item(live_server, meeting_path)}")).to_contain_text(
        "我委将于本月内完成凉亭维修。"
    )

    # 3. A resident registers, asks a question and downloads the meeting to a calendar.
    resident = new_tab(locale="en-US")
    resident.sign_in(RESIDENT)
    resident.visit(meeting_path)
    resident.submit(resident.page.locator("main form[action$='/register'] button"))
    expect(resident.page.locator("#attend-h + p")).to_contain_text(
        _t(live_server, resident, "You are registered.")
    )
    first = resident.page.locator("ol.agenda > li").nth(0)
    first.locator("textarea[name$='-body']").fill("施工时凉亭还能用吗？")
    resident.submit(first.locator("form[action$='/questions'] button"))
    expect(resident.page.locator("ol.agenda > li").nth(0)).to_contain_text("施工时凉亭还能用吗？")
    # ... and votes, from the item's vote on the meeting page.
    resident.follow(
        resident.page.locator("ol.agenda > li").nth(1).locator(f"a[href='{vote_path}']")
    )
    resident.page.locator("main form input[type=radio]").first.check()
    resident.submit(resident.main_button())
    expect(resident.page.locator("#ballot-h + p")).to_contain_text(
        _t(live_server, resident, "You have voted.")
    )
    resident.visit(meeting_path)
    with resident.page.expect_download() as download:
        resident.page.locator("main a[href$='.ics']").click()
    path = tmp_path / "meeting.ics"
    download.value.save_as(path)
    events = list(Calendar.from_ical(path.read_bytes()).walk("VEVENT"))
    assert [str(e["summary"]) for e in events] == [MEETING_TITLE]
    assert events[0].decoded("dtstart") == start

    # 4. The meeting has started: the committee publishes the minutes and decisions.
    clock.freeze(start + timedelta(minutes=30))
    try:
        committee.sign_in(COMMITTEE)  # ten days on, the earlier session has timed out
        committee.visit(meeting_path)
        committee.follow(page.locator("main a[href$='/minutes']"))
        page.locator("#body").fill("会议纪要：承办部门承诺本月完成维修。")
        page.locator("#decisions-0-decision").select_option("agreed-action")
        page.locator("#decisions-0-note").fill("本月内完成维修。")
        page.locator("#decisions-1-decision").select_option("needs-more-input")
        committee.submit(committee.main_button())
        expect(page.locator(".status").first).to_contain_text(
            _t(live_server, committee, "Held, minutes published")
        )
        expect(page.locator("#minutes-h")).to_have_count(1)
        # The vote closed before the meeting: its result stands beside the item's decision.
        voted = page.locator("ol.agenda > li").nth(1)
        expect(voted.locator(".item-votes")).to_contain_text(
            _t(live_server, committee, "Closed: results published")
        )
        committee.follow(voted.locator(f"a[href='{vote_path}']"))
        expect(page.locator("main")).to_contain_text(_t(live_server, committee, "For"))
        # The decision is in the case's timeline, and the case page links the meeting.
        committee.visit(f"/cases/{number}")
        expect(page.locator("ol.timeline")).to_contain_text(
            _t(live_server, committee, "Meeting decision: agreed action")
        )
        expect(page.locator("ol.timeline")).to_contain_text("本月内完成维修。")
        expect(page.locator(f"main a[href^='{meeting_path}#item-']")).to_have_count(1)
    finally:
        clock.freeze(None)


def _first_item(live_server, meeting_path: str) -> int:
    from sqlalchemy import select

    from portal.extensions import db
    from portal.meetings.models import AgendaItem

    meeting_id = int(meeting_path.rsplit("/", 1)[1])
    with live_server.app.app_context():
        return db.session.scalar(
            select(AgendaItem.id).where(
                AgendaItem.meeting_id == meeting_id, AgendaItem.position == 1
            )
        )
