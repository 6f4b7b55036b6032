"""A reader opens the dashboard from the header, on a phone and a desktop, in both languages:
axe-clean, no sideways scroll, charts readable without script and the cases behind a number
one tap away."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("locale", ["zh-CN", "en-GB"])
def test_dashboard_reads_on_a_phone(new_tab, locale):
    tab = new_tab(locale=locale)
    tab.page.set_viewport_size({"width": 360, "height": 740})
    tab.visit("/dashboard?period=year")
    assert tab.page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    ), "the dashboard scrolls sideways at 360 px"
    charts = tab.page.locator("svg.chart[role=img]")
    assert charts.count() >= 3
    expect(tab.page.locator("svg.chart title").first).not_to_be_empty()
    # The cases behind the first number of the league table.
    link = tab.page.locator("table.league tbody a[href*='/dashboard/cases']").first
    if link.count():
        tab.follow(link)
        expect(tab.page.locator("h1")).to_be_visible()
    tab.visit("/dashboard/methods")
    assert not tab.problems, tab.problems


def test_dashboard_from_the_header_and_errors_at_the_field(new_tab):
    tab = new_tab(locale="en-GB")
    tab.visit("/")
    tab.follow(tab.page.locator(".site-nav a[href='/dashboard']"))
    tab.page.select_option("#period", "custom")
    tab.page.fill("#start", "2026-03-01")
    tab.page.fill("#end", "2026-01-01")
    tab.submit(tab.main_button(), status=400)
    expect(tab.page.locator("#end-error")).to_be_visible()
    assert not tab.problems, tab.problems
