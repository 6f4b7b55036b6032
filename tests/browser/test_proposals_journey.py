"""A proposal's journey in headless Chromium: written by a resident, met by a similar one, approved
by the committee, supported to its threshold. Every page reached is checked by axe-core
(tests/browser/conftest.py: Tab.visit, Tab.submit, Tab.check_a11y)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

COMMUNITY = "110101001001"
COMMITTEE = "committee@example.org"
TITLE = "社区卫生站太远了"
THRESHOLD = 3  # the demo community: at least 3 supports, or 1% of its residents

pytestmark = pytest.mark.browser


def fill_proposal(tab, title: str, summary: str, body: str, category: str = "health") -> None:
    page = tab.page
    page.locator("#title").fill(title)
    page.locator("#summary").fill(summary)
    page.locator("#body").fill(body)
    page.locator("#category").select_option(category)


def send_for_review(tab):
    """The "Submit for review" button of the proposal form (the other one saves a draft)."""
    return tab.page.locator("main form.form button[name=action][value=submit]")


def progress(tab):
    return tab.page.locator(".support-box progress")


def test_proposal_is_written_approved_and_supported_to_its_threshold(new_tab):
    # 1. A resident writes a proposal and sends it to the committee.
    author = new_tab(locale="zh-CN")
    author.sign_in("resident1@example.org")
    author.visit(f"/communities/{COMMUNITY}/proposals")
    author.follow(author.page.locator(f"main a[href='/communities/{COMMUNITY}/proposals/new']"))
    fill_proposal(
        author,
        TITLE,
        "最近的社区卫生站在两公里外，老人看病、量血压都很不方便。",
        "希望在社区内设一个**卫生服务点**：\n\n- 每周两次量血压\n- 常用药代购",
    )
    author.submit(send_for_review(author))
    match = re.search(r"/proposals/(\d+)$", author.page.url)
    assert match, author.page.url
    proposal_id = int(match.group(1))
    proposal_path = f"/proposals/{proposal_id}"
    expect(author.page.locator(".flash-success")).to_be_visible()
    expect(author.page.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(author.page.locator("article.proposal .status")).to_have_class(
        re.compile(r"\bstatus-submitted\b")
    )
    expect(author.page.locator(".support-box progress")).to_have_count(0)  # no threshold yet

    # 2. The committee finds it in the review queue and approves it.
    committee = new_tab(locale="zh-CN")
    committee.sign_in(COMMITTEE)  # lands on the community desk, the review counted
    assert committee.page.url.endswith(f"/communities/{COMMUNITY}/desk"), committee.page.url
    expect(committee.page.locator(".site-nav [data-desk=committee] .badge")).to_be_visible()
    expect(committee.page.locator("main [data-count=review]")).not_to_have_text("0")
    committee.follow(
        committee.page.locator("main").get_by_role("link", name=re.compile("待审核提议")),
    )
    assert committee.page.url.endswith(f"/communities/{COMMUNITY}/review"), committee.page.url
    committee.follow(committee.page.locator(f"main li.card a[href='{proposal_path}']"))
    # One small form per decision, folded away until chosen.
    committee.page.locator("main details.decision-approve > summary").click()
    review = committee.page.locator(f"main form.review-approve[action='{proposal_path}/review']")
    committee.submit(review.locator("button[type=submit]"))
    assert committee.page.url.endswith(proposal_path), committee.page.url
    expect(committee.page.locator(".flash-success")).to_be_visible()
    expect(committee.page.locator("article.proposal .status")).to_have_class(
        re.compile(r"\bstatus-open\b")
    )
    expect(progress(committee)).to_have_attribute("value", "1")  # the author's own support
    expect(progress(committee)).to_have_attribute("max", str(THRESHOLD))
    expect(committee.page.locator(f"main form[action='{proposal_path}/review']")).to_have_count(0)

    # 3. A neighbour starts a similar one and is shown the open one before sending it.
    neighbour = new_tab(locale="zh-CN")
    neighbour.sign_in("resident2@example.org")
    neighbour.visit(f"/communities/{COMMUNITY}/proposals/new")
    fill_proposal(
        neighbour,
        "社区卫生站",
        "想在社区里有个卫生站，方便老人看病。",
        "社区里老人多，去卫生站要坐车。",
    )
    neighbour.submit(send_for_review(neighbour), status=400)  # shown the similar ones instead
    assert neighbour.page.url.endswith(f"/communities/{COMMUNITY}/proposals/new")
    similar = neighbour.page.locator("section.similar")
    expect(similar).to_be_visible()
    expect(similar.locator(f"a[href='{proposal_path}']")).to_have_text(TITLE)
    expect(neighbour.page.locator("#title")).to_have_value("社区卫生站")  # the text is kept
    expect(neighbour.page.locator("#category")).to_have_value("health")
    expect(neighbour.page.locator("#confirmed")).to_have_value("1")  # a second press sends it
    # The neighbour decides not to send it and leaves the page.
    neighbour.visit(f"/communities/{COMMUNITY}/proposals")

    # 4. Two neighbours support it; the second support reaches the threshold.
    supporter = new_tab(locale="zh-CN")
    supporter.sign_in("resident3@example.org")
    for count, tab in ((2, neighbour), (3, supporter)):
        tab.visit(proposal_path)
        expect(progress(tab)).to_have_attribute("value", str(count - 1))
        tab.submit(tab.page.locator(f"main form[action='{proposal_path}/support'] button"))
        assert tab.page.url.endswith(proposal_path), tab.page.url
        expect(tab.page.locator(".flash-success")).to_be_visible()
        expect(progress(tab)).to_have_attribute("value", str(count))
        expect(progress(tab)).to_have_attribute("max", str(THRESHOLD))
        expect(tab.page.locator(".support-box .progress-text")).to_contain_text(
            re.compile(rf"\b{count}\b.*\b{THRESHOLD}\b")
        )
        expect(tab.page.locator(f"main form[action='{proposal_path}/support']")).to_have_count(0)

    # It became a case at once: its status is the case's stage now, not "threshold reached".
    status = supporter.page.locator("article.proposal .status")
    expect(status).to_have_class(re.compile(r"\bstatus-case-dispatched\b"))
    # The count and the threshold say it in one: "3 supports — threshold of 3 reached".
    expect(supporter.page.locator(".support-box .progress-text")).to_contain_text(
        f"{THRESHOLD} supports — threshold of {THRESHOLD} reached"  # resident3 reads English
    )
    expect(supporter.page.locator(".support-box .notice.ok")).to_be_visible()
    # Supports are final once the threshold is reached.
    expect(supporter.page.locator(f"main form[action='{proposal_path}/unsupport']")).to_have_count(
        0
    )

    # The author sees the same count and status.
    author.visit(proposal_path)
    expect(progress(author)).to_have_attribute("value", str(THRESHOLD))
    expect(author.page.locator("article.proposal .status")).to_have_class(
        re.compile(r"\bstatus-case-dispatched\b")
    )
