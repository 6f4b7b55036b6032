"""A discussion's journey in headless Chromium: two residents debate a proposal, a third reports
a comment, the committee hides it, its author appeals, the district supervisor reverses the
decision, and the public moderation log tells the story without naming anyone. Every page
reached is checked by axe-core (tests/browser/conftest.py: Tab.visit, Tab.submit,
Tab.check_a11y)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

COMMUNITY = "110101001001"
COMMITTEE = "committee@example.org"
SUPERVISOR = "supervisor@example.org"  # the committee has one member: appeals go to the district
AUTHOR_NAME = "Sam Lee"  # resident3, who writes in English (portal/demo.py)
TITLE = "东门口装个自行车棚吧"
FOR_TEXT = "棚子能挡雨，电动车也不会再堵住楼门口。"
AGAINST_TEXT = "Nobody asked the people on the ground floor; this is a stupid idea."
HIDE_NOTE = "请就事论事，不要贬低邻居。"
APPEAL_NOTE = "I criticised the idea, not a person. Please look again."
DECISION_NOTE = "批评的是方案而不是人，评论恢复显示。"

pytestmark = pytest.mark.browser


def comment_id(tab) -> int:
    """A comment is published, and the page lands on it: /proposals/<id>#comment-<id>."""
    match = re.search(r"#comment-(\d+)$", tab.page.url)
    assert match, tab.page.url
    return int(match.group(1))


def publish(tab, proposal_path: str, stance: str, body: str) -> int:
    form = tab.page.locator(f"main form#comment-form[action='{proposal_path}/comments']")
    form.locator(f"input[type=radio][name=stance][value={stance}]").check()
    form.locator("textarea[name=body]").fill(body)
    tab.submit(form.locator("button[type=submit]"))
    expect(tab.page.locator(".flash-success")).to_be_visible()
    return comment_id(tab)


def summary(tab):
    return tab.page.locator("#comments .stance-summary")


def test_comment_is_reported_hidden_appealed_and_restored(new_tab):
    # 0. A resident writes a proposal; the committee approves it, so it is open for discussion.
    author = new_tab(locale="zh-CN")
    author.sign_in("resident1@example.org")
    author.visit(f"/communities/{COMMUNITY}/proposals/new")
    author.page.locator("#title").fill(TITLE)
    author.page.locator("#summary").fill("车棚设在东门口空地上，晴天遮阳，雨天挡雨。")
    author.page.locator("#body").fill("空地现在堆着杂物，清理后正好放得下。")
    author.page.locator("#category").select_option("public-space")
    author.submit(author.page.locator("main form.form button[name=action][value=submit]"))
    match = re.search(r"/proposals/(\d+)$", author.page.url)
    assert match, author.page.url
    proposal_path = f"/proposals/{match.group(1)}"
    expect(author.page.locator("#comments")).to_have_count(0)  # no discussion before approval

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
    expect(summary(committee)).to_have_text("评论：赞成 0 · 反对 0 · 疑问 0")
    expect(committee.page.locator("#comments .empty")).to_be_visible()

    # 1. Two residents debate: one for (in Chinese), one against (in English).
    supporter = new_tab(locale="zh-CN")
    supporter.sign_in("resident2@example.org")
    supporter.visit(proposal_path)
    for_id = publish(supporter, proposal_path, "for", FOR_TEXT)
    expect(summary(supporter)).to_have_text("评论：赞成 1 · 反对 0 · 疑问 0")
    mine = supporter.page.locator(f"#comment-{for_id}")
    expect(mine.locator(".comment-body")).to_have_text(FOR_TEXT)
    expect(mine.locator(".stance-for")).to_have_text("赞成")
    expect(mine.locator("details.report")).to_have_count(0)  # nobody reports their own comment

    critic = new_tab(locale="en")
    critic.sign_in("resident3@example.org")
    critic.visit(proposal_path)
    against_id = publish(critic, proposal_path, "against", AGAINST_TEXT)
    expect(summary(critic)).to_have_text("Comments: 1 for · 1 against · 0 questions")
    against = critic.page.locator(f"#comment-{against_id}")
    expect(against.locator(".comment-head strong")).to_have_text(AUTHOR_NAME)
    expect(against.locator(".stance-against")).to_have_text("Against")
    expect(against.locator(".comment-body")).to_have_text(AGAINST_TEXT)

    # 2. A third resident reports the "against" comment under it.
    reporter = new_tab(locale="zh-CN")
    reporter.sign_in("resident4@example.org")
    reporter.visit(proposal_path)
    report = reporter.page.locator(f"#comment-{against_id} details.report")
    report.locator("summary").click()
    expect(report.locator("form")).to_be_visible()
    reporter.check_a11y()  # the opened report form too
    report.locator("select[name=reason]").select_option("offensive")
    reporter.submit(report.locator("button[type=submit]"))
    assert reporter.page.url.endswith(f"{proposal_path}#comment-{against_id}"), reporter.page.url
    expect(reporter.page.locator(".flash-success")).to_be_visible()
    # One report hides nothing by itself.
    expect(reporter.page.locator(f"#comment-{against_id} .comment-body")).to_have_text(AGAINST_TEXT)

    # 3. The committee finds it in the moderation workspace and hides it, with a public note.
    committee.visit(proposal_path)
    committee.follow(
        committee.page.locator(f"main a[href='/communities/{COMMUNITY}/moderation']"),
    )
    assert committee.page.url.endswith(f"/communities/{COMMUNITY}/moderation")
    target = f"comment:{against_id}"
    card = committee.page.locator("main li.card").filter(
        has=committee.page.locator(f"input[name=target][value='{target}']")
    )
    expect(card).to_have_count(1)
    expect(card.locator("blockquote")).to_have_text(AGAINST_TEXT)
    expect(card.locator(".meta")).to_contain_text("1")  # one report
    card.locator(f"input[type=checkbox][name=target][value='{target}']").check()
    bulk = committee.page.locator("main fieldset.bulk")
    bulk.locator("input[type=radio][name=action][value=hide]").check()
    # The reason comes from the list for hiding, none chosen beforehand.
    expect(bulk.locator("select[name=hide_reason]")).to_have_value("")
    bulk.locator("select[name=hide_reason]").select_option("offensive")
    bulk.locator("textarea[name=note]").fill(HIDE_NOTE)
    committee.submit(bulk.locator("button[type=submit]"))
    assert committee.page.url.endswith(f"/communities/{COMMUNITY}/moderation")
    expect(committee.page.locator(".flash-success")).to_be_visible()
    # Decided, so the reports are resolved and the item leaves the queue.
    expect(committee.page.locator(f"input[name=target][value='{target}']")).to_have_count(0)

    supporter.visit(proposal_path)
    hidden = supporter.page.locator(f"#comment-{against_id}")
    expect(hidden.locator(".hidden-note")).to_have_text(
        f"已被居委会隐藏，理由：冒犯性内容。 {HIDE_NOTE}"
    )
    expect(hidden).not_to_contain_text(AGAINST_TEXT)
    expect(hidden).not_to_contain_text(AUTHOR_NAME)
    expect(summary(supporter)).to_have_text("评论：赞成 1 · 反对 0 · 疑问 0")  # hidden: not counted
    expect(supporter.page.locator(f"#comment-{for_id} .comment-body")).to_have_text(FOR_TEXT)

    # 4. The author is told, and appeals.
    critic.visit(proposal_path)
    badge = critic.page.locator(".site-nav .badge")
    expect(badge).to_be_visible()
    critic.visit("/notifications")
    newest = critic.page.locator("ul.notifications > li").first
    expect(newest).to_have_class(re.compile(r"\bunread\b"))
    expect(newest).to_contain_text(
        "Your comment was hidden by the committee: offensive. You may appeal."
    )
    critic.submit(newest.locator("button[type=submit]"))  # opens the appeals page
    assert critic.page.url.endswith("/appeals"), critic.page.url
    critic.visit(proposal_path)
    expect(critic.page.locator(f"#comment-{against_id} .hidden-note")).to_have_text(
        f"Hidden by the committee: offensive. {HIDE_NOTE}"
    )

    critic.visit("/appeals")
    decisions = critic.page.locator("main section[aria-labelledby=mine-h] li.card")
    expect(decisions).to_have_count(1)
    expect(decisions).to_contain_text(f"hidden: offensive {HIDE_NOTE}")
    comment_path = f"{proposal_path}#comment-{against_id}"
    expect(decisions.get_by_role("link", name="see")).to_have_attribute("href", comment_path)
    decisions.locator("textarea[name=note]").fill(APPEAL_NOTE)
    critic.submit(decisions.locator("button[type=submit]"))
    assert critic.page.url.endswith("/appeals"), critic.page.url
    expect(critic.page.locator(".flash-success")).to_be_visible()
    expect(decisions).to_contain_text("Appeal: waiting for a decision")
    expect(decisions.locator("form")).to_have_count(0)  # once only
    # The author does not decide their own appeal.
    expect(critic.page.locator("main section[aria-labelledby=todo-h]")).to_have_count(0)

    # The committee member who hid it does not decide the appeal either.
    committee.visit("/appeals")
    expect(committee.page.locator("main section[aria-labelledby=todo-h]")).to_have_count(0)

    # 5. The district supervisor decides it: reversed.
    supervisor = new_tab(locale="zh-CN")
    supervisor.sign_in(SUPERVISOR)
    supervisor.visit("/appeals")
    todo = supervisor.page.locator("main section[aria-labelledby=todo-h]")
    expect(todo.get_by_role("heading", level=2)).to_have_text("待您处理的申诉")
    appeal = todo.locator("li.card").filter(has_text=APPEAL_NOTE)
    expect(appeal).to_have_count(1)
    expect(appeal).to_contain_text(HIDE_NOTE)
    expect(appeal.locator(f"a[href='{comment_path}']")).to_have_count(1)  # where it happened
    appeal.locator("input[type=radio][name=decision][value=reverse]").check()
    appeal.locator("textarea[name=note]").fill(DECISION_NOTE)
    supervisor.submit(appeal.locator("button[type=submit]"))
    assert supervisor.page.url.endswith("/appeals"), supervisor.page.url
    expect(supervisor.page.locator(".flash-success")).to_be_visible()
    expect(supervisor.page.locator("main li.card").filter(has_text=APPEAL_NOTE)).to_have_count(0)

    supporter.visit(proposal_path)
    restored = supporter.page.locator(f"#comment-{against_id}")
    expect(restored.locator(".comment-body")).to_have_text(AGAINST_TEXT)
    expect(restored.locator(".hidden-note")).to_have_count(0)
    expect(summary(supporter)).to_have_text("评论：赞成 1 · 反对 1 · 疑问 0")

    critic.visit("/appeals")
    expect(decisions).to_contain_text(f"Appeal: decision reversed — {DECISION_NOTE}")
    critic.visit("/notifications")
    expect(critic.page.locator("ul.notifications > li").nth(0)).to_contain_text(
        "Your appeal was decided: decision reversed."
    )
    expect(critic.page.locator("ul.notifications > li").nth(1)).to_contain_text(
        "Your comment is visible again."
    )

    # 6. The public log, read by anyone: newest first, reasoned, and naming nobody.
    visitor = new_tab(locale="en")
    visitor.visit(f"/communities/{COMMUNITY}/moderation-log")
    rows = visitor.page.locator("main table tbody tr")
    about = rows.filter(has_text=f"comment #{against_id}")
    expect(about).to_have_count(3)
    for i, (action, reason, by) in enumerate(
        (
            ("appeal: decision reversed", DECISION_NOTE, "the district supervisor"),
            ("restored", f"appeal upheld — {DECISION_NOTE}", "the district supervisor"),
            ("hidden", f"offensive — {HIDE_NOTE}", "the committee"),
        )
    ):
        cells = rows.nth(i).locator("td")  # the newest three entries of the whole log
        expect(cells.nth(1)).to_have_text(action)
        expect(cells.nth(2)).to_have_text(f"comment #{against_id}")
        expect(cells.nth(3)).to_have_text(reason)
        expect(cells.nth(4)).to_have_text(by)
    main = visitor.page.locator("main")
    for name in (AUTHOR_NAME, "周老师", "王主任", "赵督办"):  # author, reporter, moderators
        expect(main).not_to_contain_text(name)
    expect(main).not_to_contain_text(AGAINST_TEXT)
