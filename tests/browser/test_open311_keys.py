"""The administrator issues an Open311 key for a hotline (shown once), and revokes it: the
page and its results pass axe, on a phone (the page follows the admin's own language)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_admin_issues_and_revokes_a_key(new_tab):
    locale = "zh-CN"
    tab = new_tab(locale=locale)
    tab.page.set_viewport_size({"width": 360, "height": 740})
    tab.sign_in("admin@example.org")
    tab.visit("/admin/")
    tab.follow(tab.page.locator("main a[href='/admin/open311-keys']"))
    # An empty name: the error sits at the field.
    tab.submit(tab.main_button(":has(#name)"), status=400)
    expect(tab.page.locator("#name[aria-invalid=true]")).to_have_count(1)
    tab.page.locator("#name").fill(f"12345 热线 {locale}")
    tab.submit(tab.main_button(":has(#name)"))
    key = tab.page.locator("main code.code").inner_text()
    assert key.startswith("o311_")
    row = tab.page.locator("main tr", has_text=f"12345 热线 {locale}")
    assert tab.page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )
    tab.submit(row.locator("button[type=submit]"))
    revoked = "Revoked" if tab.html_lang.startswith("en") else "已吊销"
    expect(tab.page.locator("main tr", has_text=f"12345 热线 {locale}")).to_contain_text(revoked)
    expect(tab.page.locator("main tr", has_text=f"12345 热线 {locale}")).to_contain_text(key[:10])
    assert key not in tab.page.content()  # shown once only
