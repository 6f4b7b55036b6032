"""My proposals (every state, with what to do next), my supports and my comments: pages and
API, paged by keyset, in a bounded number of queries."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from portal.core import clock
from portal.deliberation import services as delib
from portal.proposals import services
from tests.conftest import NASTY, user_by_email


@pytest.fixture
def author(make_user, community):
    """A fresh confirmed resident of community A: their lists hold only what a test makes."""
    return make_user(community=community)


def _english(user, db):
    user.locale = "en"
    db.session.commit()


def _cards(html: str) -> list[str]:
    return re.findall(
        r'<li class="card mine-card">(.*?)</li>\s*(?=<li class="card|</ul>)', html, re.S
    )


def test_my_proposals_shows_every_state_with_its_next_step(
    app, client, login_as, make_proposal, author, db
):
    made = {
        status: make_proposal(status, author=author, title=f"{status} {NASTY[:10]}")
        for status in (
            "draft",
            "submitted",
            "changes_requested",
            "rejected",
            "open",
            "expired",
            "withdrawn",
        )
    }
    login_as(author)
    html = client.get("/account/proposals").get_data(as_text=True)
    assert NASTY[:10] not in html  # escaped
    cards = _cards(html)
    assert len(cards) == len(made)

    def card(status):
        (found,) = [c for c in cards if f'/proposals/{made[status].id}"' in c]
        return found

    assert "尚未提交" in card("draft") and f"/proposals/{made['draft'].id}/edit" in card("draft")
    assert "居委会将在" in card("submitted") and "待审核" in card("submitted")
    assert "请补充位置" in card("changes_requested")  # what the committee asked
    assert "请按要求修改后再次提交" in card("changes_requested")
    assert "其他理由" in card("rejected") and "请补充位置" in card("rejected")  # the reason
    assert "还需要" in card("open") and "人附议" in card("open")
    assert "附议期已结束" in card("expired")
    assert "您已于" in card("withdrawn")

    # In English too, with no Chinese in the page's own words (the committee's note is theirs).
    _english(author, db)
    html = client.get("/account/proposals").get_data(as_text=True)
    main = re.search(r"<main.*?</main>", html, re.S).group(0)
    for words in (
        "It is not sent yet",
        "The committee reviews it by",
        "Change it as asked",
        "Not accepted:",
        "more supports before",
        "The support window closed with",
        "You withdrew it on",
    ):
        assert words in main
    text = re.sub(r"<[^>]+>", " ", main).replace("请补充位置", "")
    assert not re.search(r"[\u4e00-\u9fff]", text), re.findall(r".{20}[\u4e00-\u9fff]+.{20}", text)


def test_my_proposals_filters_by_state_and_pages_by_keyset(
    app, client, login_as, make_proposal, author, monkeypatch
):
    from portal.proposals import views

    monkeypatch.setattr(views, "MINE_PAGE", 3)
    opened = [make_proposal("open", author=author) for _ in range(4)]
    draft = make_proposal("draft", author=author)
    login_as(author)
    html = client.get("/account/proposals?status=open").get_data(as_text=True)
    assert f'/proposals/{draft.id}"' not in html
    ids = [int(i) for i in re.findall(r'class="card-title"><a href="/proposals/(\d+)"', html)]
    assert ids == [p.id for p in reversed(opened)][:3]
    more = re.search(r'rel="next" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert parse_qs(urlsplit(more).query)["status"] == ["open"]
    second = client.get(more).get_data(as_text=True)
    assert [
        int(i) for i in re.findall(r'class="card-title"><a href="/proposals/(\d+)"', second)
    ] == [opened[0].id]
    assert 'rel="next"' not in second
    assert client.get("/account/proposals?cursor=nonsense!").status_code == 400
    # The same number of queries for a page of 3 as for a page of 1: no query per card.
    assert _selects(client, "/account/proposals?status=open") == _selects(
        client, f"/account/proposals?status=open&cursor={_cursor(opened[1].id)}"
    )


def _selects(client, url: str) -> int:
    """The SELECTs a request runs (the tests' savepoints, which depend on the request before,
    left out)."""
    import sqlalchemy as sa

    from portal.extensions import db

    seen: list[str] = []

    def before(_conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", before)
    try:
        assert client.get(url).status_code == 200
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", before)
    return len(seen)


def _cursor(after_id: int) -> str:
    from portal.core.input import encode_cursor

    return encode_cursor([after_id])


def test_mine_lists_are_only_mine(app, client, login_as, make_proposal, author):
    other = make_proposal("draft")  # resident1's
    mine = make_proposal("draft", author=author)
    login_as(author)
    html = client.get("/account/proposals").get_data(as_text=True)
    assert f'/proposals/{mine.id}"' in html and f'/proposals/{other.id}"' not in html
    assert client.get("/account/comments").status_code == 200


def test_my_comments_page(app, client, login_as, make_proposal, author, db):
    p = make_proposal("open")
    with app.test_request_context("/"):
        kept = delib.add_comment(author, p, f"我赞成 {NASTY}", "for")
        gone = delib.add_comment(author, p, "写错了", "question")
        delib.delete_comment(author, gone)
        delib.add_comment(user_by_email("resident2@example.org"), p, "别人的评论", "against")
    db.session.commit()
    login_as(author)
    html = client.get("/account/comments").get_data(as_text=True)
    assert "我赞成" in html and NASTY not in html
    assert f"/proposals/{p.id}#comment-{kept.id}" in html
    assert "您已删除这条评论" in html and "写错了" not in html
    assert "别人的评论" not in html
    assert "我的提议" in html and "我的附议" in html  # the tabs of "my activity"


def test_account_page_links_to_my_pages(client, login_as, author):
    login_as(author)
    html = client.get("/account").get_data(as_text=True)
    for url in ("/account/proposals", "/account/supports", "/account/comments"):
        assert f'href="{url}"' in html


# --- API -------------------------------------------------------------------------------------


def test_api_my_proposals(client, api_token, make_proposal, author):
    draft = make_proposal("draft", author=author)
    rejected = make_proposal("rejected", author=author)
    make_proposal("open")  # someone else's
    headers = api_token(author)
    body = client.get("/api/v1/me/proposals", headers=headers).get_json()
    assert [i["id"] for i in body["items"]] == [rejected.id, draft.id]
    assert body["next"] is None
    r = body["items"][0]
    assert (r["status"], r["reject_reason"], r["review_note"]) == (
        "rejected",
        "other",
        "请补充位置",
    )
    assert r["case"] is None
    only = client.get("/api/v1/me/proposals?status=draft", headers=headers).get_json()
    assert [i["id"] for i in only["items"]] == [draft.id]
    page = client.get("/api/v1/me/proposals?limit=1", headers=headers).get_json()
    assert [i["id"] for i in page["items"]] == [rejected.id]
    rest = client.get(page["next"], headers=headers).get_json()
    assert [i["id"] for i in rest["items"]] == [draft.id]
    assert client.get("/api/v1/me/proposals?status=nope", headers=headers).status_code == 400
    assert client.get("/api/v1/me/proposals").status_code == 401


def test_api_my_comments(app, client, api_token, make_proposal, author, db):
    p = make_proposal("open")
    with app.test_request_context("/"):
        c1 = delib.add_comment(author, p, "第一条", "for")
        c2 = delib.add_comment(author, p, "回复", None, parent=c1)
    db.session.commit()
    headers = api_token(author)
    body = client.get("/api/v1/me/comments?limit=1", headers=headers).get_json()
    (item,) = body["items"]
    assert (item["id"], item["parent_id"], item["proposal_title"]) == (c2.id, c1.id, p.title)
    rest = client.get(body["next"], headers=headers).get_json()
    assert [i["id"] for i in rest["items"]] == [c1.id] and rest["next"] is None
    assert client.get("/api/v1/me/comments").status_code == 401


def test_expired_is_the_effective_state(client, login_as, make_proposal, author, db):
    p = make_proposal("expired", author=author)  # still "open" in the table, window closed
    assert p.status.value == "open" and p.closes_at < clock.now()
    login_as(author)
    assert f'/proposals/{p.id}"' in client.get("/account/proposals?status=expired").get_data(
        as_text=True
    )
    assert f'/proposals/{p.id}"' not in client.get("/account/proposals?status=open").get_data(
        as_text=True
    )
    assert services.effective_status(p).value == "expired"


def test_a_signed_in_page_has_the_city_time_zone_from_the_sign_in(
    app, client, login_as, make_proposal, author, db
):
    """The sign-in's statement brings the city's time zone: a signed-in page's dates are in
    it, and no statement of its own asks for it."""
    from datetime import UTC, datetime

    import sqlalchemy as sa

    from portal.places.models import City

    p = make_proposal("open", author=author)
    p.created_at = datetime(2026, 1, 1, 3, 30, tzinfo=UTC)
    city = db.session.scalar(sa.select(City).order_by(City.id))
    city.timezone = "America/New_York"
    _english(author, db)
    login_as(author)
    seen: list[str] = []

    def before(_conn, _cursor, statement, *_args):
        seen.append(" ".join(statement.split()))

    sa.event.listen(db.engine, "before_cursor_execute", before)
    try:
        html = client.get("/account/proposals").get_data(as_text=True)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", before)
    assert "written 31 December 2025, 22:30" in html  # 03:30 UTC: the evening before there
    assert not [s for s in seen if s.startswith("SELECT cities.timezone")], seen
