"""A new resident signs up with a mobile number and the code the console provider kept in the
outbox, without JavaScript's help: number, code, privacy notice, display name, then asks to
join a community. Every page is checked by axe-core (Tab.visit, Tab.submit)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

NUMBER = "139 8765 4321"
E164 = "+8613987654321"


def texted_code(live_server, phone: str) -> str:
    """The code in the newest text to ``phone`` in the live server's outbox."""
    from portal.extensions import db
    from portal.notifications.models import OutboxMessage

    with live_server.app.app_context():
        body = db.session.scalar(
            db.select(OutboxMessage.body)
            .where(OutboxMessage.to_address == phone)
            .order_by(OutboxMessage.id.desc())
            .limit(1)
        )
        db.session.remove()
    assert body, f"no text to {phone}"
    return re.search(r"\b(\d{6})\b", body).group(1)


def test_a_new_resident_signs_up_with_a_number(new_tab, live_server):
    tab = new_tab(locale="zh-CN")
    page = tab.page
    tab.visit("/login")
    page.locator("#phone").fill(NUMBER)
    tab.submit(tab.main_button("[action^='/login/code']"))
    # The page comes back with the code's field, and says when a new code may be asked for.
    expect(page.locator("[role=status]")).to_contain_text("+86 139 8765 4321")
    expect(page.locator("main")).to_contain_text("60 秒后可重新获取验证码")
    code = texted_code(live_server, E164)

    # Without accepting the privacy notice, no account: the error sits at its box.
    page.locator("#code").fill(code)
    tab.submit(tab.main_button("[action^='/login/verify']"), status=400)
    expect(page.locator("#accept_privacy-error")).to_be_visible()
    expect(page.locator("#code")).to_have_value(code)

    # The notice is a page of its own, in plain words.
    notice = new_tab(locale="zh-CN")
    notice.visit("/privacy")
    expect(notice.page.get_by_role("heading", level=1)).to_have_text("隐私声明")

    page.locator("#accept_privacy").check()
    tab.submit(tab.main_button("[action^='/login/verify']"))
    assert "/welcome" in page.url, page.url
    page.locator("#display_name").fill("林阿姨")
    tab.submit(tab.main_button())
    assert page.url.endswith("/residency"), page.url
    expect(page.locator(".flash-success")).to_be_visible()
    expect(page.locator("form[action='/logout'] button")).to_have_count(1)

    tab.visit("/account")
    expect(page.locator("main")).to_contain_text("+86 139 8765 4321")
    expect(page.locator("#display_name")).to_have_value("林阿姨")
