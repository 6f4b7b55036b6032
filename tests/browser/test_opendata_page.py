"""The open data page in a phone's browser: reached from the footer, axe-clean in both display
modes, nothing scrolling sideways at 360 px, in both languages; its links lead to the files."""

from __future__ import annotations

import pytest

from tests.browser.conftest import Tab

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_open_data_page_on_a_phone(browser, live_server, locale):
    context = browser.new_context(
        base_url=live_server.url, locale=locale, viewport={"width": 360, "height": 740}
    )
    try:
        tab = Tab(context.new_page())
        tab.visit("/places")
        tab.follow(tab.page.locator("footer a[href='/open-data']"))
        assert tab.page.url.endswith("/open-data")
        for mode in ("standard", "large"):
            tab.page.evaluate(
                "m => { const c = document.documentElement.classList;"
                " c.remove('display-standard', 'display-large'); c.add('display-' + m); }",
                mode,
            )
            assert not tab.page.evaluate(
                "document.documentElement.scrollWidth > document.documentElement.clientWidth"
            ), mode
        href = tab.page.locator("main a[href='/open-data/cases.csv']").get_attribute("href")
        response = context.request.get(href)
        assert response.status == 200
        assert response.headers["content-type"].startswith("text/csv")
        assert response.text().lstrip("\ufeff").startswith("number,proposal_id,title,")
        feed = context.request.get("/feeds/proposals.atom")
        assert feed.headers["content-type"].startswith("application/atom+xml")
    finally:
        context.close()
