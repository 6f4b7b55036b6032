"""Every role finds its work: sign in, land on the right desk, reach every desk from the
header with the counts its queue shows, and a header that stays small on a phone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Tab

pytestmark = pytest.mark.browser

COMMUNITY = "110101001001"
LANDINGS = [
    ("resident1@example.org", f"/communities/{COMMUNITY}", None),
    ("committee@example.org", f"/communities/{COMMUNITY}/desk", "committee"),
    ("liaison.health-commission@example.org", "/workspace/agency/health-commission", "liaison"),
    ("gridworker@example.org", "/workspace/grid", "grid"),
    ("supervisor@example.org", "/workspace/supervisor/110101", "supervisor"),
    ("admin@example.org", "/admin/", "admin"),
]


def follow(tab, link) -> None:
    with tab.page.expect_navigation() as navigation:
        link.click()
    response = navigation.value
    assert response is not None
    assert response.status == 200, f"{response.url}: {response.status}"
    tab.check_a11y()


def header_height(tab) -> float:
    return tab.page.evaluate(
        "document.querySelector('.site-header').getBoundingClientRect().height"
    )


def scrolls_sideways(tab) -> bool:
    return tab.page.evaluate(
        "document.documentElement.scrollWidth > document.documentElement.clientWidth"
    )


@pytest.fixture(scope="module")
def waiting_work(live_server):
    """One proposal waiting for the committee's review, in the live app's database."""
    from portal.accounts.services import find_by_email
    from portal.extensions import db
    from portal.places.services import community_by_code
    from portal.proposals import services as proposals
    from portal.proposals.models import Category

    app = live_server.app
    with app.test_request_context("/"):
        author = find_by_email("resident2@example.org")
        category = db.session.scalar(db.select(Category).where(Category.code == "health"))
        proposals.create(
            author,
            community_by_code(COMMUNITY),
            title="楼道灯坏了很久",
            summary="三号楼二单元",
            body="请修理",
            category=category,
            submit=True,
        )
        db.session.commit()
        db.session.remove()


@pytest.mark.parametrize(("email", "landing", "kind"), LANDINGS)
@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_each_role_lands_on_its_desk_and_reaches_it_from_the_header(
    new_tab, waiting_work, email, landing, kind, locale
):
    tab = new_tab(locale=locale)
    tab.sign_in(email)
    assert tab.page.url.endswith(landing), tab.page.url
    nav = tab.page.locator(".site-nav")
    expect(nav.locator("a[href='/cases']")).to_be_visible()
    if kind is None:
        expect(nav.locator("[data-desk]")).to_have_count(0)
        return
    desk = nav.locator(f"[data-desk={kind}]")
    expect(desk).to_be_visible()
    badge = desk.locator(".badge")
    count = int(badge.get_attribute("data-count")) if badge.count() else 0
    follow(tab, desk)
    assert tab.page.url.endswith(landing)
    main = tab.page.locator("main")
    if kind == "committee":
        # The desk's four counts add up to the header's, and the review queue lists its part.
        parts = [int(t) for t in main.locator(".tile-count").all_inner_texts()]
        assert sum(parts) == count
        review = int(main.locator("[data-count=review]").inner_text())
        assert review >= 1  # the proposal waiting_work submitted
        follow(tab, main.locator(f"a[href='/communities/{COMMUNITY}/review']"))
        expect(tab.page.locator("main li.card")).to_have_count(review)
    elif kind in ("liaison", "grid", "supervisor"):
        # The count is the number of cases on the desk's first tab.
        expect(main.locator("a[href^='/cases/']")).to_have_count(count)
    # Cases, from the main navigation, for everyone.
    follow(tab, tab.page.locator(".site-nav a[href='/cases']"))


@pytest.mark.parametrize("mode", ["standard", "large"])
@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_the_header_is_small_and_nothing_scrolls_sideways_on_a_phone(
    browser, live_server, mode, locale
):
    context = browser.new_context(
        base_url=live_server.url, locale=locale, viewport={"width": 360, "height": 740}
    )
    try:
        context.add_cookies([{"name": "display", "value": mode, "url": live_server.url}])
        tab = Tab(context.new_page())
        for path in ("/", "/search", "/search?q=%E8%B7%AF%E7%81%AF", "/cases", "/places"):
            tab.visit(path)
            assert header_height(tab) < 80, path
            assert not scrolls_sideways(tab), path
        # The menu opens without JavaScript and leads on.
        menu = tab.page.locator("details.menu")
        expect(tab.page.locator(".site-nav a[href='/cases']")).to_be_hidden()
        menu.locator("summary").click()
        expect(tab.page.locator(".site-nav a[href='/cases']")).to_be_visible()
        tab.submit(tab.page.locator(".site-search button"), status=200)
        tab.sign_in("committee@example.org")
        for path in (f"/communities/{COMMUNITY}/desk", "/", "/search?q=x"):
            tab.visit(path)
            assert header_height(tab) < 80, path
            assert not scrolls_sideways(tab), path
    finally:
        context.close()


@pytest.mark.parametrize("mode", ["standard", "large"])
@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_the_header_is_one_bar_on_a_desktop(browser, live_server, mode, locale):
    """At 1280 px the navigation sits in the bar, except large English text, which needs more
    room than the bar has and keeps the menu; the bar stays under 80 px either way."""
    context = browser.new_context(
        base_url=live_server.url, locale=locale, viewport={"width": 1280, "height": 800}
    )
    try:
        context.add_cookies([{"name": "display", "value": mode, "url": live_server.url}])
        tab = Tab(context.new_page())
        inline = mode == "standard" or locale == "zh-CN"
        for path in ("/", "/cases", "/search?q=x"):
            tab.visit(path)
            assert header_height(tab) < 80, path
            assert not scrolls_sideways(tab), path
            cases = tab.page.locator(".site-nav a[href='/cases']")
            if inline:
                expect(cases).to_be_visible()
                expect(tab.page.locator("#site-q")).to_be_visible()
            else:
                expect(cases).to_be_hidden()
                tab.page.locator("details.menu summary").click()
                expect(cases).to_be_visible()
    finally:
        context.close()


def test_search_by_case_number_and_words(new_tab):
    tab = new_tab(locale="zh-CN")
    tab.visit("/")
    tab.page.locator("details.menu").evaluate("d => d.open = true")
    tab.page.locator("#site-q").fill("110101001001-2026-99999")
    tab.submit(tab.page.locator(".site-search button"))
    expect(tab.page.locator("main .empty")).to_contain_text("110101001001-2026-99999")
    field = tab.page.locator("#search-page-q")
    field.fill("楼道灯")
    tab.submit(tab.main_button())
    expect(tab.page.locator("main")).to_contain_text(re.compile("提议|Proposals"))
