"""A resident's data rights, end to end and without JavaScript's help: sign up with a number
and the texted code, join a community (the committee approves), support a proposal, download
the data, see the committee's view of the residency request under "who has seen my data", and
delete the account with a fresh code. Every page is checked by axe-core."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from portal.core import clock
from tests.browser.test_phone_journey import texted_code

pytestmark = pytest.mark.browser

COMMUNITY = "110101001001"
COMMITTEE = "committee@example.org"
NUMBER = "137 0246 8135"
E164 = "+8613702468135"
NAME = "数据权利林阿姨"


def open_proposal(live_server) -> int:
    """A proposal of the community, written by a demo resident and approved by its committee."""
    from portal.accounts.services import find_by_email
    from portal.extensions import db
    from portal.places.services import community_by_code
    from portal.proposals import services
    from portal.proposals.models import Category

    app = live_server.app
    with app.app_context(), app.test_request_context("/"):
        category = db.session.scalar(db.select(Category).where(Category.code == "health"))
        p = services.create(
            find_by_email("resident1@example.org"),
            community_by_code(COMMUNITY),
            title="楼下增设休息座椅",
            summary="老人散步需要歇脚",
            body="在3号楼前增设两张长椅。",
            category=category,
            submit=True,
        )
        services.review(find_by_email(COMMITTEE), p, "approve")
        pid = p.id
        db.session.commit()
        db.session.remove()
    return pid


def test_a_resident_downloads_sees_who_viewed_and_deletes(new_tab, live_server, tmp_path):
    tab = new_tab(locale="zh-CN")
    page = tab.page
    # 1. Sign up with a number and the texted code.
    tab.visit("/login")
    page.locator("#phone").fill(NUMBER)
    tab.submit(tab.main_button("[action^='/login/code']"))
    page.locator("#code").fill(texted_code(live_server, E164))
    page.locator("#accept_privacy").check()
    tab.submit(tab.main_button("[action^='/login/verify']"))
    page.locator("#display_name").fill(NAME)
    tab.submit(tab.main_button())
    assert page.url.endswith("/residency"), page.url

    # 2. Ask to join; the committee sees the request (a logged view) and approves it.
    page.locator("#join-community_code").select_option(COMMUNITY)
    page.locator("#join-address_note").fill("7号楼3单元")
    tab.submit(tab.main_button("[action='/residency/request']"))
    committee = new_tab(locale="zh-CN")
    committee.sign_in(COMMITTEE)
    committee.visit(f"/communities/{COMMUNITY}/residency")
    card = committee.page.locator("li.card").filter(
        has=committee.page.locator("h2.card-title", has_text=NAME)
    )
    card.locator("input[type=radio][name=decision][value=approve]").check()
    committee.submit(card.locator("button[type=submit]"))

    # 3. Support a proposal.
    pid = open_proposal(live_server)
    tab.visit(f"/proposals/{pid}")
    tab.submit(page.locator(f"main form[action='/proposals/{pid}/support'] button"))
    expect(page.locator(f"main form[action='/proposals/{pid}/unsupport']")).to_have_count(1)

    # 4. Download the data: one file, with the number and the support in it.
    tab.visit("/account")
    tab.follow(page.locator("main a[href='/account/data']"))
    with page.expect_download() as download:
        page.locator("main a[href='/account/data/export.json']").first.click()
    saved = tmp_path / "data.json"
    download.value.save_as(saved)
    data = json.loads(saved.read_text(encoding="utf-8"))
    assert data["account"]["phone"] == E164 and data["account"]["display_name"] == NAME
    assert {s["proposal_id"] for s in data["supports"]} == {pid}
    assert data["residency_requests"][0]["address_note"] == "7号楼3单元"

    # 5. Who has seen my data: the committee, by its office, checking and deciding the request.
    tab.follow(page.locator("main a[href='/account/access-log']"))
    log = page.locator("main ul.access-log")
    expect(log).to_contain_text("居委会")
    expect(log).to_contain_text("审核居民申请")
    expect(log).to_contain_text("决定您的居民申请")

    # 6. Delete the account a minute later (a number gets one code a minute): a fresh code,
    # the confirmation, then signed out.
    clock.freeze(clock.now() + timedelta(seconds=61))
    try:
        tab.visit("/account/delete")
        tab.submit(tab.main_button("[action='/account/delete/code']"))
        expect(page.locator("main [role=status]")).to_be_visible()
        code = texted_code(live_server, E164)
        page.locator("#code").fill(code)
        tab.submit(tab.main_button("[action='/account/delete']"), status=400)  # not confirmed
        expect(page.locator("#confirm-error")).to_be_visible()
        page.locator("#code").fill(code)
        page.locator("#confirm").check()
        tab.submit(tab.main_button("[action='/account/delete']"))
    finally:
        clock.freeze(None)
    expect(page.locator(".flash-success")).to_contain_text("前居民")
    expect(page.locator("form[action='/logout'] button")).to_have_count(0)
    # The support still counts; the number is gone.
    from portal.accounts.models import User
    from portal.extensions import db

    with live_server.app.app_context():
        assert db.session.scalar(db.select(User).where(User.phone == E164)) is None
        db.session.remove()
