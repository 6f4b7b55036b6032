"""A resident's own pages and a case's stages in headless Chromium: "my proposals", "my
supports", "my comments", the proposal that became a case and the case page, in both
languages, on a desktop and on a 360 px phone in both display modes: axe-core clean on every
page (Tab.visit) and nothing scrolls sideways."""

from __future__ import annotations

from datetime import timedelta

import pytest

pytestmark = pytest.mark.browser

RESIDENT = "resident1@example.org"
# No character bigram in common with the other journeys' texts (their similar-proposals checks).
TITLE = "篮球架的篮网破了"
SUMMARY = "球场北侧那只篮筐的网兜烂掉，投篮不好判断。"
PHONE = {"width": 360, "height": 740}


def _prepare(live_server) -> tuple[int, str]:
    """resident1's proposal, reached its threshold, filed, accepted and planned; a comment."""
    from sqlalchemy import select

    from portal.accounts.services import find_by_email
    from portal.cases import services as cases
    from portal.core import clock
    from portal.deliberation import services as delib
    from portal.extensions import db
    from portal.proposals import services as proposals
    from portal.proposals.models import Category

    with live_server.app.test_request_context("/"):
        author = find_by_email(RESIDENT)
        category = db.session.scalar(select(Category).where(Category.code == "health"))
        p = proposals.create(
            author,
            author.community,
            title=TITLE,
            summary=SUMMARY,
            body="请更换篮网。",
            category=category,
            location_note="球场北侧",
            submit=True,
        )
        proposals.review(find_by_email("committee@example.org"), p, "approve")
        p.threshold = 2
        db.session.flush()
        proposals.support(find_by_email("resident2@example.org"), p)
        case = cases.case_for_proposal(p)
        liaison = find_by_email(f"liaison.{case.agency.code}@example.org")
        cases.act(liaison, case, "accept")
        cases.act(
            liaison, case, "plan", note="本周更换", expected_at=clock.now() + timedelta(days=2)
        )
        delib.add_comment(author, p, "谢谢大家附议！", "for")
        db.session.commit()
        return p.id, case.number


def _set_locale(live_server, email: str, locale: str) -> None:
    from portal.accounts.services import find_by_email
    from portal.extensions import db

    with live_server.app.app_context():
        find_by_email(email).locale = locale
        db.session.commit()


def _no_sideways_scroll(tab, path: str) -> None:
    """At 360 px, neither display mode scrolls the page sideways."""
    for mode in ("standard", "large"):
        tab._set_display_class(mode)
        wide = tab.page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert wide <= 0, f"{path} scrolls sideways by {wide}px at 360px ({mode} display)"


def test_my_pages_and_the_case_stages_on_desktop_and_phone(new_tab, live_server):
    proposal_id, number = _prepare(live_server)
    pages = [
        "/account/proposals",
        "/account/supports",
        "/account/comments",
        f"/proposals/{proposal_id}",
        f"/cases/{number}",
    ]
    try:
        for locale in ("zh_Hans", "en"):
            _set_locale(live_server, RESIDENT, locale)
            tab = new_tab("zh-CN" if locale == "zh_Hans" else "en-US")
            tab.sign_in(RESIDENT)
            for path in pages:
                tab.page.set_viewport_size({"width": 1280, "height": 800})
                tab.visit(path)
                tab.page.set_viewport_size(PHONE)
                tab.check_a11y()
                _no_sideways_scroll(tab, path)
            # The stage is named in words where the proposal appears, the current one marked.
            tab.visit("/account/proposals")
            card = tab.page.locator("li.mine-card", has_text=TITLE)
            assert number in card.inner_text()
            tab.visit(f"/cases/{number}")
            current = tab.page.locator("ol.stepper li[aria-current=step]")
            assert current.count() == 1
            assert current.inner_text().split()[1] in ("处置", "Handling")
    finally:
        _set_locale(live_server, RESIDENT, "zh_Hans")
