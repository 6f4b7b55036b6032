"""A grid case's journey in headless Chromium, across four roles: a health proposal reaches its
threshold and is filed and dispatched; the agency's liaison accepts it, publishes a plan and
progress, and answers officially; the grid worker checks on site; the supporters say whether it
is solved (only totals are shown); once the verification period ends the sweep closes the loop.
Every page reached is checked by axe-core (tests/browser/conftest.py: Tab.visit, Tab.submit,
Tab.check_a11y)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from flask_babel import gettext
from playwright.sync_api import expect

from portal.core.i18n import force_locale

COMMUNITY = "110101001001"
COMMITTEE = "committee@example.org"
LIAISON = "liaison.health-commission@example.org"
GRID_WORKER = "gridworker@example.org"
AGENCY_CODE = "health-commission"
AGENCY_NAME = {"zh-Hans": "区卫生健康委员会", "en": "District Health Commission"}
# The supporters' display names (portal/demo.py); the case page never shows who answered.
SUPPORTER_NAMES = ("刘师傅", "Sam Lee")
# No character bigram in common with the proposals journey's texts: the similar-proposals check
# must not hold up either journey, whichever runs first on the shared live server.
TITLE = "楼道里需要一台除颤仪"
SUMMARY = "心脏骤停时，几分钟内能用上除颤仪就能救命。"
BODY = "希望在**三号楼大堂**安装一台自动体外除颤仪（AED），并组织一次使用培训。"
PLAN_NOTE = "已联系区急救中心，下周安装除颤仪并培训志愿者。"
PROGRESS_NOTE = "除颤仪已到货，安装位置已确认。"
RESPONSE = "三号楼大堂已安装自动体外除颤仪一台，已培训志愿者十二名。"
CHECK_NOTE = "现场查看：除颤仪已安装，标识清楚。"
STEPS = ["file", "dispatch", "accept", "plan", "progress", "resolve", "verify", "close"]

pytestmark = pytest.mark.browser


# --- helpers ---------------------------------------------------------------------------------


def babel_locale(tab) -> str:
    return {"zh-Hans": "zh_Hans"}.get(tab.html_lang, tab.html_lang)


def translate(live_server, tab, message: str, **params) -> str:
    """``message`` as the live app renders it in the tab's language."""
    with live_server.app.test_request_context("/"), force_locale(babel_locale(tab)):
        return gettext(message, **params)


def step_labels(live_server, tab, steps: list[str]) -> list[str]:
    from portal.cases.services import step_label

    with live_server.app.test_request_context("/"):
        return [step_label(step, babel_locale(tab)) for step in steps]


def load_case(live_server, number: str):
    """The case as stored by the live server (detached; plain column values only)."""
    from sqlalchemy import select

    from portal.cases.models import Case
    from portal.extensions import db

    with live_server.app.app_context():
        case = db.session.scalar(select(Case).where(Case.number == number))
        assert case is not None, number
        db.session.expunge(case)
        return case


def city_timezone(live_server) -> ZoneInfo:
    from portal.core.i18n import city_timezone_name

    with live_server.app.test_request_context("/"):
        return ZoneInfo(city_timezone_name())


def status(tab):
    return tab.page.locator("dl.facts .status")


def action_form(tab, action: str):
    """The form of one allowed action on the case page (templates/cases/_action.html)."""
    return tab.page.locator(
        f"main form.action-form:has(input[name='act-action'][value='{action}'])"
    )


def timeline(tab):
    return tab.page.locator("ol.timeline > li")


def verification(tab):
    return tab.page.locator("main section[aria-labelledby=verify-h]")


# --- the journey -----------------------------------------------------------------------------


def test_case_is_handled_verified_and_closed_across_four_roles(new_tab, live_server):
    # 1. A health proposal reaches its threshold: written, approved, supported twice.
    author = new_tab(locale="zh-CN")
    author.sign_in("resident1@example.org")
    author.visit(f"/communities/{COMMUNITY}/proposals/new")
    author.page.locator("#title").fill(TITLE)
    author.page.locator("#summary").fill(SUMMARY)
    author.page.locator("#body").fill(BODY)
    author.page.locator("#category").select_option("health")
    author.submit(author.page.locator("main form.form button[name=action][value=submit]"))
    match = re.search(r"/proposals/(\d+)$", author.page.url)
    assert match, author.page.url
    proposal_path = f"/proposals/{match.group(1)}"

    committee = new_tab(locale="zh-CN")
    committee.sign_in(COMMITTEE)
    committee.visit(proposal_path)
    # One small form per decision, folded away until chosen.
    committee.page.locator("main details.decision-approve > summary").click()
    review = committee.page.locator(f"main form.review-approve[action='{proposal_path}/review']")
    committee.submit(review.locator("button[type=submit]"))
    expect(committee.page.locator("article.proposal .status")).to_have_class(
        re.compile(r"\bstatus-open\b")
    )

    supporters = {}
    for email, locale in (("resident2@example.org", "zh-CN"), ("resident3@example.org", "en")):
        tab = supporters[email] = new_tab(locale=locale)
        tab.sign_in(email)
        tab.visit(proposal_path)
        expect(tab.page.locator("main a[href^='/cases/']")).to_have_count(0)  # no case yet
        tab.submit(tab.page.locator(f"main form[action='{proposal_path}/support'] button"))
        expect(tab.page.locator(".flash-success")).to_be_visible()

    # The third support qualified it: the proposal page says its case's stage and links to it.
    third = supporters["resident3@example.org"]
    assert third.html_lang == "en"  # resident3's own language
    expect(third.page.locator("article.proposal .status")).to_have_class(
        re.compile(r"\bstatus-case-dispatched\b")
    )
    expect(third.page.locator("article.proposal .status")).to_have_text(
        translate(live_server, third, "Dispatched, awaiting the agency")
    )
    case_link = third.page.locator("main .notice.ok a[href^='/cases/']")
    expect(case_link).to_have_count(1)
    case_path = case_link.get_attribute("href") or ""
    match = re.fullmatch(rf"/cases/({COMMUNITY}-\d{{4}}-\d{{5}})", case_path)
    assert match, case_path
    number = match.group(1)
    expect(case_link).to_contain_text(number)
    third.follow(case_link)
    assert urlsplit(third.page.url).path == case_path, third.page.url
    expect(third.page.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(third.page.locator("main p.code")).to_contain_text(number)
    expect(status(third)).to_have_class(re.compile(r"\bstatus-dispatched\b"))
    expect(third.page.locator("dl.facts")).to_contain_text(AGENCY_NAME["en"])
    expect(timeline(third).locator("strong")).to_have_text(
        step_labels(live_server, third, ["file", "dispatch"])
    )
    expect(action_form(third, "accept")).to_have_count(0)  # a resident has no actions
    expect(third.page.locator("main form.action-form")).to_have_count(0)

    # 2. The agency's liaison accepts it from the workspace with one click ...
    liaison = new_tab(locale="zh-CN")
    liaison.sign_in(LIAISON)
    workspace = f"/workspace/agency/{AGENCY_CODE}"
    liaison.visit(workspace)
    expect(liaison.page.get_by_role("heading", level=1)).to_contain_text(AGENCY_NAME["zh-Hans"])
    card = liaison.page.locator(f"main li.card:has(a[href='{case_path}'])")
    expect(card).to_have_count(1)
    accept = card.locator("form button[type=submit]")
    expect(accept).to_contain_text(number)
    expect(card.locator("input[name='act-action']")).to_have_value("accept")
    liaison.submit(accept)
    assert urlsplit(liaison.page.url).path == workspace, liaison.page.url  # back to the list
    expect(liaison.page.locator(".flash-success")).to_be_visible()
    expect(card).to_have_count(0)  # no longer new

    # ... then publishes a plan, posts progress and gives the official response.
    tz = city_timezone(live_server)
    expected = (datetime.now(tz) + timedelta(days=3)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    liaison.visit(case_path)
    expect(status(liaison)).to_have_class(re.compile(r"\bstatus-accepted\b"))
    plan = action_form(liaison, "plan")
    plan.locator("input[type=datetime-local][name='act-expected_at']").fill(
        expected.strftime("%Y-%m-%dT%H:%M")
    )
    plan.locator("textarea[name='act-note']").fill(PLAN_NOTE)
    liaison.submit(plan.locator("button[type=submit]"))
    assert urlsplit(liaison.page.url).path == case_path, liaison.page.url
    expect(liaison.page.locator(".flash-success")).to_be_visible()
    expect(liaison.page.locator(".flash-error")).to_have_count(0)
    expect(status(liaison)).to_have_class(re.compile(r"\bstatus-in_progress\b"))
    # The local time typed in is stored as the same instant in UTC.
    assert load_case(live_server, number).expected_at == expected.astimezone(UTC)
    expect(liaison.page.locator("dl.facts > div")).to_have_count(4)  # + expected by the agency

    # Progress is a rarer step than the official response: under "Other actions".
    resolve_form = action_form(liaison, "resolve")
    expect(resolve_form).to_be_visible()
    liaison.page.locator("main details.other-actions > summary").click()
    progress = action_form(liaison, "progress")
    progress.locator("textarea[name='act-note']").fill(PROGRESS_NOTE)
    liaison.submit(progress.locator("button[type=submit]"))
    expect(liaison.page.locator(".flash-success")).to_be_visible()
    expect(status(liaison)).to_have_class(re.compile(r"\bstatus-in_progress\b"))
    expect(timeline(liaison).last).to_contain_text(PROGRESS_NOTE)

    resolve = action_form(liaison, "resolve")
    resolve.locator("textarea[name='act-note']").fill(RESPONSE)
    liaison.submit(resolve.locator("button[type=submit]"))
    expect(liaison.page.locator(".flash-success")).to_be_visible()
    expect(status(liaison)).to_have_class(re.compile(r"\bstatus-verifying\b"))
    expect(liaison.page.locator("main section[aria-labelledby=response-h] .pre")).to_have_text(
        RESPONSE
    )
    expect(liaison.page.locator("main form.action-form")).to_have_count(0)  # the liaison is done
    expect(verification(liaison)).to_be_visible()

    # 3. The grid worker finds it among the cases to verify and records the site check.
    grid = new_tab(locale="zh-CN")
    grid.sign_in(GRID_WORKER)
    grid.visit("/workspace/grid")
    link = grid.page.locator(f"main li.card a[href='{case_path}']")
    expect(link).to_have_text(TITLE)
    grid.follow(link)
    check = action_form(grid, "verify")
    check.locator("input[type=radio][name='act-passed'][value=yes]").check()
    check.locator("textarea[name='act-note']").fill(CHECK_NOTE)
    grid.submit(check.locator("button[type=submit]"))
    assert urlsplit(grid.page.url).path == case_path, grid.page.url
    expect(grid.page.locator(".flash-success")).to_be_visible()
    expect(status(grid)).to_have_class(re.compile(r"\bstatus-verifying\b"))  # until the sweep
    expect(verification(grid).locator("li").first).to_contain_text("✓")
    expect(timeline(grid).last).to_contain_text(CHECK_NOTE)
    expect(grid.page.locator(f"main form[action='{case_path}/feedback']")).to_have_count(0)

    # 4. The supporters answer "is it solved?"; only the totals are published.
    for tab, satisfaction in zip(supporters.values(), ("5", "4"), strict=True):
        tab.visit(case_path)
        feedback = tab.page.locator(f"main form[action='{case_path}/feedback']")
        feedback.locator("input[type=radio][name='fb-solved'][value=yes]").check()
        feedback.locator(
            f"input[type=radio][name='fb-satisfaction'][value='{satisfaction}']"
        ).check()
        tab.submit(feedback.locator("button[type=submit]"))
        assert urlsplit(tab.page.url).path == case_path, tab.page.url
        expect(tab.page.locator(".flash-success")).to_be_visible()
        expect(feedback).to_have_count(0)  # one answer each
        expect(verification(tab)).to_contain_text(
            translate(live_server, tab, "Thank you: your answer is counted.")
        )

    for tab in (*supporters.values(), grid, liaison):
        tab.visit(case_path)
        expect(verification(tab)).to_contain_text(
            translate(
                live_server,
                tab,
                "Supporters who say it is solved: %(yes)d; not solved: %(no)d",
                yes=2,
                no=0,
            )
        )
        expect(verification(tab).locator("meter")).to_have_attribute("value", "4.5")
        html = tab.page.content()
        for name in SUPPORTER_NAMES:
            assert name not in html, f"{name} shown on {tab.page.url}"

    # 5. The verification period ends; the sweep closes the case (clock frozen after it).
    from portal.core import clock

    due = load_case(live_server, number).stage_due_at
    assert due is not None and due > datetime.now(UTC)
    clock.freeze(due + timedelta(minutes=1))
    try:
        result = live_server.app.test_cli_runner().invoke(args=["cases", "sweep"])
    finally:
        clock.freeze(None)
    assert result.exit_code == 0, result.output
    assert re.match(r"[1-9]\d* closed, 0 reopened", result.output), result.output
    assert load_case(live_server, number).close_reason == "resolved"

    public = new_tab(locale="zh-CN")
    public.visit(case_path)
    expect(status(public)).to_have_class(re.compile(r"\bstatus-closed\b"))
    expect(public.page.locator("dl.facts")).to_contain_text(AGENCY_NAME["zh-Hans"])
    expect(public.page.locator("dl.facts")).to_contain_text(
        translate(live_server, public, "Resolved and verified")
    )
    expect(public.page.locator("main section[aria-labelledby=response-h] .pre")).to_have_text(
        RESPONSE
    )
    expect(timeline(public).locator("strong")).to_have_text(step_labels(live_server, public, STEPS))
    for step, note in (
        ("plan", PLAN_NOTE),
        ("progress", PROGRESS_NOTE),
        ("resolve", RESPONSE),
        ("verify", CHECK_NOTE),
    ):
        expect(timeline(public).nth(STEPS.index(step))).to_contain_text(note)
    expect(public.page.locator("main form")).to_have_count(0)  # nothing to do for a visitor
    html = public.page.content()
    for name in SUPPORTER_NAMES:
        assert name not in html

    # The closed case is listed as such, and no longer waits for the grid worker.
    public.visit("/cases?state=closed")
    expect(public.page.locator(f"main table a[href='{case_path}']")).to_have_text(number)
    grid.visit("/workspace/grid")
    expect(grid.page.locator(f"main a[href='{case_path}']")).to_have_count(0)
