"""Every page at 360 × 740, as each role, in both languages and both display modes.

For each role (a visitor, a resident, a committee member, a liaison, a grid worker, the
supervisor, the administrator) and each language, the sweep opens one page per URL rule of the
app that the role can reach (a GET answered 200 with HTML) and fails when

- the page scrolls sideways, or a table is wider than its box, in the normal or the large
  display mode;
- an English page shows Chinese, or a Chinese page an English phrase, outside people's own
  content (marked ``.user-content``) and text marked with another ``lang``.

axe-core checks each rule's page once (the first role that reaches it, in the first language
swept), in both display modes (``Tab.check_a11y``): it is what takes the time. A rule whose
path needs a value the sweep does not know fails the test, so a new page is swept from the
day it is added.

It runs once, on PostgreSQL when TEST_DATABASE_URL is set (it is slow for CI to run twice):
with SQLite it is skipped unless SWEEP_ON_SQLITE=1.
"""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit

import pytest

from portal.core import clock
from tests.browser.conftest import DEMO_PASSWORD, Tab
from tools.totp_code import fresh_code

pytestmark = pytest.mark.browser

COMMUNITY = "110101001001"
DISTRICT = "110101"
AGENCY = "health-commission"
VIEWPORT = {"width": 360, "height": 740}
ROLES = {
    "visitor": None,
    "resident": "resident1@example.org",
    "committee": "committee@example.org",
    "liaison": f"liaison.{AGENCY}@example.org",
    "grid worker": "gridworker@example.org",
    "supervisor": "supervisor@example.org",
    "admin": "admin@example.org",
}
# Not pages: files, feeds, machine endpoints and mailed links (their tokens are one person's).
SKIP_PREFIXES = ("/api/", "/open311/", "/static/", "/healthz", "/confirm/", "/reset/", "/register/")
SKIP_ENDPOINT_WORDS = ("photo", "feed", "export", "_csv", "_json", "print_batch")

# Chinese characters, CJK punctuation and full-width forms.
CJK = r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]"
# An English phrase: two words of Latin letters in a row (names of formats and standards
# aside), which a translated Chinese page does not carry.
ALLOWED_LATIN = {"API", "OpenAPI", "Markdown", "JPEG", "PNG", "WebP", "GeoJSON", "CSV", "JSON"}

TEXT_PROBLEMS = """([lang, mode]) => {
  const cjk = /CJK/;
  const phrase = /[A-Za-z]{2,}(?:[ \\u00a0]+[A-Za-z]{2,})+/g;
  const allowed = new Set(ALLOWED);
  // People's words, form fields holding them, and the logo (a character, not text).
  const skip = [".user-content", "[data-user-content]", "textarea", "script", "style",
    "noscript", "template", ".brand-mark"].join(", ");
  const other = (el) => {
    const marked = el.closest("[lang]");
    return marked && marked !== document.documentElement;
  };
  const wrong = (text) => {
    if (lang === "en") return cjk.test(text);
    return (text.match(phrase) || []).some(
      (m) => !m.split(/[ \\u00a0]+/).every((w) => allowed.has(w)));
  };
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, el = node.parentElement;
    const text = node.textContent.trim();
    if (!text || !el || el.closest(skip) || other(el)) continue;
    if (wrong(text)) found.push(text.slice(0, 80));
  }
  for (const el of document.querySelectorAll("[aria-label], [alt], [placeholder], [title]")) {
    if (el.closest(skip) || other(el)) continue;
    for (const name of ["aria-label", "alt", "placeholder", "title"]) {
      const value = el.getAttribute(name);
      if (value && wrong(value)) found.push(`${name}=${value.slice(0, 80)}`);
    }
  }
  return found;
}""".replace("CJK", CJK).replace("ALLOWED", repr(sorted(ALLOWED_LATIN)))

WIDTH_PROBLEMS = """() => {
  const found = [];
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth + 1) {
    // Name the innermost elements that reach past the edge, to say where it overflows.
    const over = (el) => el.getBoundingClientRect().right > root.clientWidth + 1;
    const wide = [...document.body.querySelectorAll("*")]
      .filter((el) => over(el) && ![...el.children].some(over))
      .slice(0, 3)
      .map((el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
        + (el.className ? "." + String(el.className).trim().split(" ").join(".") : "")
        + ` (${Math.round(el.getBoundingClientRect().width)}px)`);
    found.push(`page ${root.scrollWidth}px wide in ${root.clientWidth}px: ${wide.join(", ")}`);
  }
  for (const table of document.querySelectorAll("main table")) {
    if (table.scrollWidth > table.clientWidth + 1) {
      found.push(`table ${table.scrollWidth}px wide in a ${table.clientWidth}px box`);
    }
  }
  // A card's label (a stacked table cell's ::before) that wraps must not spill over the next.
  for (const td of document.querySelectorAll("table.stack td[data-label]")) {
    const label = parseFloat(getComputedStyle(td, "::before").height);
    if (label > td.clientHeight + 1) {
      found.push(`label "${td.dataset.label}" (${label}px) spills out of its cell`);
    }
  }
  return found;
}"""


@pytest.fixture(scope="module")
def sample(live_server) -> dict[str, str]:
    """Objects of community A for the rules' path variables, made through the services (on
    topics no other journey writes about, whose similarity checks they would meet): an
    open proposal with a comment and a report, a draft and a submitted proposal of
    resident1, a case under way, an invitation batch; and the values naming them."""
    from sqlalchemy import select

    from portal.cases import services as cases
    from portal.deliberation import services as delib
    from portal.extensions import db
    from portal.places.services import community_by_code
    from portal.proposals import services as proposals
    from portal.proposals.models import Category
    from portal.residency import services as residency
    from tests.conftest import user_by_email

    app = live_server.app
    with app.app_context(), app.test_request_context("/"):
        community = community_by_code(COMMUNITY)
        health = db.session.scalar(select(Category).where(Category.code == "health"))
        author = user_by_email(ROLES["resident"])
        committee = user_by_email(ROLES["committee"])

        def proposal(title, summary, *, submit=True):
            return proposals.create(
                author,
                community,
                title=title,
                summary=summary,
                body="健身器材生锈松动，老人锻炼时担心受伤，希望尽快更换。",
                category=health,
                submit=submit,
            )

        open_one = proposal("健身器材生锈松动", "器材晃得厉害")
        proposals.review(committee, open_one, "approve")
        comment = delib.add_comment(author, open_one, "同意，早上锻炼的人很多。", "for", None)
        delib.report(
            user_by_email("resident2@example.org"), "comment", comment.id, "other", "留了电话"
        )
        draft = proposal("花坛缺少护栏", "小孩容易踩进去", submit=False)
        proposal("健身器材该换新了", "器材生锈晃动")  # waits for review, like the open one
        to_case = proposal("南墙涂鸦需要清理", "墙面脏乱")
        proposals.review(committee, to_case, "approve")
        to_case.threshold = 2
        db.session.flush()
        proposals.support(user_by_email("resident2@example.org"), to_case)
        case = cases.case_for_proposal(to_case)
        liaison = user_by_email(f"liaison.{case.agency.code}@example.org")
        cases.act(liaison, case, "accept")
        batch = residency.create_batch(committee, community, 2, "一号楼", 30)
        from tests.votes.factories import make_vote

        vote = make_vote(app, community, options=["东门加装路灯", "西门加装路灯"])
        # An upcoming published meeting: the case on its agenda, the case's agency invited
        # to answer it in writing, and a resident's question.
        from datetime import timedelta

        from portal.core import clock
        from portal.meetings import services as meetings

        start = clock.now() + timedelta(days=10)
        meeting = meetings.create_meeting(
            committee,
            community,
            meetings.Details(
                "居民议事会", "路灯与涂鸦", start, start + timedelta(hours=2), "活动室"
            ),
        )
        item = meetings.add_item(committee, meeting, case_number=case.number, note="进展如何")
        invitation = meetings.invite(committee, item, case.agency)
        meetings.publish(committee, meeting)
        question = meetings.ask(author, item, "什么时候完成清理？")
        values = {
            "meeting_id": str(meeting.id),
            "invitation_id": str(invitation.id),
            "question_id": str(question.id),
            "item_id": str(vote.item_id),
            "vote_id": str(vote.id),
            "proposal_id": str(open_one.id),
            "draft_id": str(draft.id),
            "comment_id": str(comment.id),
            "number": case.number,
            "batch_id": str(batch.id),
            "category_id": str(health.id),
            "case_agency": case.agency.code,
        }
        db.session.commit()
        db.session.remove()
    return values


def _path(rule, sample: dict[str, str]) -> str | None:
    """The rule's path with sample values, None for rules that are not pages."""
    path = rule.rule
    if path.startswith(SKIP_PREFIXES) or any(w in rule.endpoint for w in SKIP_ENDPOINT_WORDS):
        return None
    if "GET" not in rule.methods:
        return None
    codes = {
        "/places/": DISTRICT,
        "/workspace/supervisor/": DISTRICT,
        "/workspace/agency/": AGENCY,
    }
    for name in rule.arguments:
        if name == "code":
            value = next((v for k, v in codes.items() if path.startswith(k)), COMMUNITY)
        elif name == "proposal_id" and path.endswith("/edit"):
            value = sample["draft_id"]
        elif name in sample:
            value = sample[name]
        else:
            pytest.fail(f"the sweep has no value for <{name}> of {path} ({rule.endpoint})")
        path = re.sub(rf"<(?:[^:<>]+:)?{name}>", value, path)
    return path


def _pages(live_server, sample) -> list[str]:
    paths = {_path(rule, sample) for rule in live_server.app.url_map.iter_rules()}
    return sorted(p for p in paths if p)


def _set_language(live_server, email: str | None, locale: str) -> None:
    from portal.accounts.services import find_by_email
    from portal.extensions import db

    if email is None:
        return
    with live_server.app.app_context():
        find_by_email(email).locale = locale
        db.session.commit()
        db.session.remove()


def _check(tab: Tab, lang: str, problems: list[str], where: str) -> None:
    page = tab.page
    served = tab.display_mode
    for mode in (served, "large" if served == "standard" else "standard"):
        tab._set_display_class(mode)
        for problem in page.evaluate(WIDTH_PROBLEMS):
            problems.append(f"{where} [{mode}]: {problem}")
    tab._set_display_class(served)
    for text in page.evaluate(TEXT_PROBLEMS, [lang, served]):
        problems.append(f"{where}: {'Chinese' if lang == 'en' else 'English'} text: {text!r}")


# The pages axe-core has checked, across both languages' runs.
_AXE_CHECKED: set[str] = set()


@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL") and os.environ.get("SWEEP_ON_SQLITE") != "1",
    reason="the sweep runs once, on PostgreSQL (SWEEP_ON_SQLITE=1 runs it on SQLite)",
)
@pytest.mark.parametrize("lang", ["zh-Hans", "en"])
def test_every_page_fits_a_phone_in_its_language(browser, live_server, sample, lang):
    locale = "zh_Hans" if lang == "zh-Hans" else "en"
    pages = _pages(live_server, sample)
    problems: list[str] = []
    seen = 0
    for role, email in ROLES.items():
        context = browser.new_context(
            base_url=live_server.url,
            locale="zh-CN" if locale == "zh_Hans" else "en-GB",
            viewport=VIEWPORT,
        )
        context.set_default_timeout(10_000)
        _set_language(live_server, email, locale)
        try:
            tab = Tab(context.new_page())
            if email is not None:
                tab.page.goto("/login")
                tab.page.locator("#email").fill(email)
                tab.page.locator("#password").fill(DEMO_PASSWORD)
                with tab.page.expect_navigation():
                    tab.page.locator("main form:has(#password) button[type=submit]").click()
                if "/login/two-factor" in tab.page.url:  # staff: the second step
                    tab.page.locator("#code").fill(fresh_code(email, at=clock.now().timestamp()))
                    with tab.page.expect_navigation():
                        tab.page.locator("main form:has(#code) button[type=submit]").click()
                assert "/login" not in tab.page.url, f"sign-in failed for {email}"
            for path in pages:
                probe = context.request.get(path, max_redirects=0)
                if probe.status != 200 or "text/html" not in probe.headers.get("content-type", ""):
                    continue
                response = tab.page.goto(path)
                assert response is not None and response.status == 200, (role, path)
                if urlsplit(tab.page.url).path != urlsplit(path).path:
                    continue
                assert tab.html_lang == lang, f"{path} as {role}: <html lang={tab.html_lang}>"
                seen += 1
                _check(tab, lang, problems, f"{path} as {role}")
                if path not in _AXE_CHECKED:
                    _AXE_CHECKED.add(path)
                    tab.check_a11y()
        finally:
            context.close()
            _set_language(live_server, email, "zh_Hans")
    assert seen > len(ROLES) * 5, f"only {seen} pages were swept"
    assert not problems, f"{len(problems)} problems at 360 px ({lang}):\n" + "\n".join(problems)
