"""Journeys through the real app in headless Chromium; every page reached is checked by axe-core
(tests/browser/conftest.py: Tab.visit, Tab.submit, Tab.check_a11y)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

COMMUNITY = "110101001001"
COMMUNITY_ZH = "多福巷社区"
COMMITTEE = "committee@example.org"
NEW_PASSWORD = "plum tree lantern 42 harbour"

pytestmark = pytest.mark.browser


def register(tab, live_server, email: str, name: str) -> None:
    """Through /register and the link of its mail; a new account lands on /residency, not yet
    a resident."""
    tab.visit("/register")
    tab.page.locator("#email").fill(email)
    tab.page.locator("#display_name").fill(name)
    expect(tab.page.locator("#locale-0")).to_be_checked()  # 简体中文, from Accept-Language
    tab.submit(tab.main_button())
    expect(tab.page.get_by_role("heading", level=1)).to_have_text("请查收邮件")
    tab.visit(mailed_link(live_server, email))
    # The password is chosen on the link's page; the link carries none.
    tab.page.locator("#password").fill(NEW_PASSWORD)
    tab.page.locator("#confirm").fill(NEW_PASSWORD)
    tab.submit(tab.main_button())
    assert tab.page.url.endswith("/residency"), tab.page.url
    expect(tab.page.locator(".status-box")).to_have_class(re.compile(r"\bstatus-none\b"))
    expect(tab.page.locator(".flash-success")).to_be_visible()


def mailed_link(live_server, address: str) -> str:
    """The path of the link in the newest mail to ``address`` in the live server's outbox."""
    from portal.extensions import db
    from portal.notifications.models import OutboxMessage

    with live_server.app.app_context():
        body = db.session.scalar(
            db.select(OutboxMessage.body)
            .where(OutboxMessage.to_address == address)
            .order_by(OutboxMessage.id.desc())
            .limit(1)
        )
        db.session.remove()
    return re.search(r"https?://[^/\s]+(/\S+)", body).group(1)


def unread_badge(tab):
    return tab.page.locator(".site-nav .badge")


def test_visitor_switches_language_and_text_size(new_tab):
    tab = new_tab(locale="zh-CN")
    page = tab.page
    tab.visit("/")
    assert tab.html_lang == "zh-Hans"
    assert tab.display_mode == "standard"
    expect(page.locator(".site-nav").get_by_role("link", name="登录")).to_be_visible()

    tab.submit(page.locator(".prefs button[name=lang][value=en]"))
    assert page.url.endswith("/")
    assert tab.html_lang == "en"
    expect(page.locator(".site-nav").get_by_role("link", name="Sign in")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Commons")

    # The choice is remembered (a cookie) and the button comes back on every page.
    tab.visit("/login")
    assert tab.html_lang == "en"
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    tab.submit(page.locator(".prefs button[name=lang][value=zh_Hans]"))
    assert page.url.endswith("/login")  # back where the visitor was
    assert tab.html_lang == "zh-Hans"
    expect(page.get_by_role("heading", level=1)).to_have_text("登录")

    large = page.locator(".prefs button[name=mode]")
    expect(large).to_have_attribute("aria-pressed", "false")
    tab.submit(large)
    assert page.url.endswith("/login")
    expect(page.locator("html")).to_have_class(re.compile(r"\bdisplay-large\b"))
    expect(large).to_have_attribute("aria-pressed", "true")
    assert tab.html_lang == "zh-Hans"
    for path in ("/", "/register", "/places"):
        tab.visit(path)  # served in large mode now
        assert tab.display_mode == "large", path

    tab.submit(large)
    expect(page.locator("html")).to_have_class(re.compile(r"\bdisplay-standard\b"))
    expect(large).to_have_attribute("aria-pressed", "false")
    assert page.url.endswith("/places")


def test_new_resident_asks_to_join_and_the_committee_approves(new_tab, live_server):
    name = "新邻居小林"
    newbie = new_tab(locale="zh-CN")
    register(newbie, live_server, "newbie@example.org", name)

    page = newbie.page
    page.locator("#join-community_code").select_option(COMMUNITY)
    page.locator("#join-address_note").fill("3号楼2单元")
    newbie.submit(newbie.main_button("[action='/residency/request']"))
    assert page.url.endswith("/residency")
    expect(page.locator(".status-box")).to_have_class(re.compile(r"\bstatus-pending\b"))
    expect(page.locator(".status-box")).to_contain_text(COMMUNITY_ZH)
    expect(unread_badge(newbie)).to_have_count(0)

    committee = new_tab(locale="zh-CN")
    committee.sign_in(COMMITTEE)
    committee.visit(f"/communities/{COMMUNITY}/residency")
    card = committee.page.locator("li.card").filter(
        has=committee.page.locator("h2.card-title", has_text=name)
    )
    expect(card).to_have_count(1)
    expect(card).to_contain_text("3号楼2单元")
    card.locator("input[type=radio][name=decision][value=approve]").check()
    committee.submit(card.locator("button[type=submit]"))
    assert committee.page.url.endswith(f"/communities/{COMMUNITY}/residency")
    expect(committee.page.locator(".flash-success")).to_be_visible()
    # Decided, so no longer waiting.
    expect(committee.page.locator("h2.card-title", has_text=name)).to_have_count(0)

    newbie.visit("/residency")
    expect(page.locator(".status-box")).to_have_class(re.compile(r"\bstatus-confirmed\b"))
    expect(page.locator(".status-box")).to_contain_text(COMMUNITY_ZH)
    expect(page.locator(".site-header .context")).to_have_text(COMMUNITY_ZH)
    expect(unread_badge(newbie)).to_have_count(1)
    expect(unread_badge(newbie)).to_contain_text(re.compile(r"^\s*1\b"))

    newbie.visit("/notifications")
    items = page.locator("ul.notifications > li")
    expect(items).to_have_count(1)
    expect(items).to_have_class(re.compile(r"\bunread\b"))
    expect(items).to_contain_text(f"您在{COMMUNITY_ZH}的居住认证已通过")

    # Opening it marks it read and leads to the residency page.
    newbie.submit(items.locator("button[type=submit]"))
    assert page.url.endswith("/residency")
    expect(unread_badge(newbie)).to_have_count(0)


def test_invitation_letters_confirm_a_new_resident_at_once(new_tab, live_server):
    committee = new_tab(locale="zh-CN")
    committee.sign_in(COMMITTEE)
    committee.visit(f"/communities/{COMMUNITY}/invitations")
    page = committee.page
    page.locator("#size").fill("3")
    page.locator("#label").fill("5号楼")
    page.locator("#valid_days").select_option("30")
    committee.submit(committee.main_button())
    assert re.search(rf"/communities/{COMMUNITY}/invitations/\d+$", page.url), page.url
    print_url = page.url

    letters = page.locator("article.letter")
    expect(letters).to_have_count(3)
    for i in range(3):
        expect(letters.nth(i).locator(".qr svg")).to_have_count(1)
    codes = [c.strip() for c in page.locator("article.letter .code").all_inner_texts()]
    assert len(set(codes)) == 3 and all(codes), codes
    # Each QR code is titled with the code it carries.
    assert [t.strip() for t in page.locator(".qr svg title").all_text_contents()] == codes

    committee.visit(f"/communities/{COMMUNITY}/invitations")
    expect(page.locator("main table tbody tr")).to_have_count(1)
    expect(page.locator("main table tbody tr")).to_contain_text("5号楼")

    newcomer = new_tab(locale="zh-CN")
    register(newcomer, live_server, "newbie2@example.org", "新邻居小周")
    newcomer.page.locator("#invite-invitation_code").fill(codes[1])
    newcomer.submit(newcomer.main_button("[action='/residency/invitation']"))
    assert newcomer.page.url.endswith("/residency")
    status = newcomer.page.locator(".status-box")
    expect(status).to_have_class(re.compile(r"\bstatus-confirmed\b"))
    expect(status).to_contain_text(COMMUNITY_ZH)

    # The letter shows as used when the committee prints the batch again.
    committee.page.goto(print_url)
    committee.check_a11y()
    expect(page.locator("article.letter.used")).to_have_count(1)
    expect(page.locator("article.letter.used .code")).to_have_text(codes[1])


def test_a_resident_of_a_large_city_finds_the_community_by_search(
    new_tab, live_server, monkeypatch
):
    from portal.residency import views

    monkeypatch.setattr(views, "LIST_ALL_UNDER", 2)  # the demo's communities stand in for 1,000
    tab = new_tab(locale="zh-CN")
    register(tab, live_server, "finder@example.org", "找社区的人")
    page = tab.page
    expect(page.locator("#find")).to_be_visible()
    expect(page.locator(f"#join-community_code option[value='{COMMUNITY}']")).to_have_count(0)
    page.locator("#find").fill("多福")
    tab.submit(page.locator("main form[role=search] button[type=submit]"))
    page.locator("#join-community_code").select_option(COMMUNITY)
    page.locator("#join-address_note").fill("5号楼1单元")
    tab.submit(tab.main_button("[action='/residency/request']"))
    expect(page.locator(".status-box")).to_have_class(re.compile(r"\bstatus-pending\b"))
    # While it waits, the page offers the expected wait and a withdrawal, not the forms.
    expect(page.locator("#find")).to_have_count(0)
    expect(page.locator("main")).to_contain_text("3 天")
    # In English, the request withdrawn, the search is back and finds nothing.
    tab.submit(page.locator("button[name=lang][value=en]"))
    tab.submit(tab.main_button("[action='/residency/withdraw']"))
    expect(page.locator(".status-box")).to_have_class(re.compile(r"\bstatus-none\b"))
    tab.visit("/residency?find=nowhere")
    assert tab.html_lang == "en"
    expect(page.locator("main")).to_contain_text("No community matches")
