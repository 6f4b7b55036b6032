"""The vote pages: the ballot while open, results after; the committee's form with errors at
the field and input kept; a community's votes; the meeting page's include; both languages."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from portal.core import clock
from portal.votes.models import Vote
from tests.conftest import NASTY, user_by_email
from tests.votes.factories import make_item, make_vote


def main(html: str) -> str:
    return re.search(r"<main.*?</main>", html, re.S).group(0)


def english(user, db):
    user.locale = "en"
    db.session.commit()


def no_chinese_outside_user_content(html: str) -> None:
    text = re.sub(r'<span class="user-content">.*?</span>', " ", main(html), flags=re.S)
    text = re.sub(r'<h1 class="user-content">.*?</h1>', " ", text, flags=re.S)
    text = re.sub(r'<a [^>]*class="user-content">.*?</a>', " ", text, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", text)
    assert not re.search(r"[\u4e00-\u9fff]", text), re.findall(r".{20}[\u4e00-\u9fff]+.{20}", text)


def test_a_resident_votes_on_the_page_and_sees_their_choice_kept(
    app, client, login_as, community, db
):
    vote = make_vote(app, community, options=["东门", "西门"])
    login_as("resident")
    html = client.get(f"/votes/{vote.id}").get_data(as_text=True)
    assert "投票进行中" in html and "东门" in html and 'name="option"' in html
    assert "<script>alert(1)</script>" not in html  # the question is escaped
    r = client.form(f"/votes/{vote.id}/ballot", {"option": str(vote.options[1].id)})
    assert r.status_code == 302
    html = client.get(f"/votes/{vote.id}").get_data(as_text=True)
    assert "您已投票" in html and "修改我的投票" in html
    checked = re.search(r'<input[^>]*value="(\d+)"[^>]* checked', html)
    assert checked and int(checked.group(1)) == vote.options[1].id
    # Nothing chosen: the error at the field, on the page.
    r = client.form(f"/votes/{vote.id}/ballot", {})
    assert r.status_code == 400 and "option-error" in r.get_data(as_text=True)


def test_a_non_resident_is_told_at_the_form(app, client, login_as, community):
    vote = make_vote(app, community)
    login_as("resident_b")
    html = client.get(f"/votes/{vote.id}").get_data(as_text=True)
    assert 'name="option"' not in html and "只有表决开始时已确认的" in html
    r = client.form(f"/votes/{vote.id}/ballot", {"option": str(vote.options[0].id)})
    assert r.status_code == 403
    assert "只有表决开始时已确认的本社区居民可以参加本次表决" in r.get_data(as_text=True)


def test_results_page_in_english(app, client, login_as, community, api_token, db):
    vote = make_vote(app, community, quorum_percent=1)
    client.put(
        f"/api/v1/votes/{vote.id}/ballot",
        json={"option": vote.options[0].id},
        headers=api_token("resident"),
    )
    clock.freeze(vote.closes_at)
    user = login_as("resident2")
    english(user, db)
    html = client.get(f"/votes/{vote.id}").get_data(as_text=True)
    assert "Closed: results published" in html and "Quorum of 1% met." in html
    assert "Turnout: 1 of" in html and ">For<" in html and "Abstain" in html
    no_chinese_outside_user_content(html)
    html = client.get(f"/communities/{community.code}/votes").get_data(as_text=True)
    assert f"/votes/{vote.id}" in html
    no_chinese_outside_user_content(html)


def test_the_committee_form_keeps_input_and_shows_errors_at_the_field(
    app, client, login_as, community, db
):
    item = make_item(community)
    login_as("committee")
    url = f"/agenda-items/{item.id}/vote"
    page = client.get(url)
    assert page.status_code == 200 and "将议题提交表决" in page.get_data(as_text=True)
    tz = ZoneInfo("Asia/Shanghai")
    now = clock.now().astimezone(tz)
    fmt = "%Y-%m-%dT%H:%M"
    data = {
        "question": f"问题 {NASTY}",
        "kind": "options",
        "option_1": "只有一个",
        "opens_at": (now + timedelta(hours=1)).strftime(fmt),
        "closes_at": (now + timedelta(days=1)).strftime(fmt),
        "quorum_percent": "20",
    }
    r = client.form(url, data)
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and "请填写二至六个选项" in html
    assert 'id="option_1-error"' in html and 'value="只有一个"' in html
    assert "问题 &lt;script&gt;" in html and 'value="20"' in html
    late = {**data, "option_2": "两个", "closes_at": (now - timedelta(days=1)).strftime(fmt)}
    r = client.form(url, late)
    assert r.status_code == 400 and 'id="closes_at-error"' in r.get_data(as_text=True)
    r = client.form(url, {**data, "option_2": "两个"})
    assert r.status_code == 302
    vote = db.session.scalar(sa.select(Vote).where(Vote.item_id == item.id))
    assert [o.label for o in vote.options] == ["只有一个", "两个"] and vote.quorum_percent == 20
    assert r.headers["Location"].endswith(f"/votes/{vote.id}")
    assert vote.state == "scheduled"
    local_open = vote.opens_at.astimezone(tz).strftime(fmt)
    assert local_open == data["opens_at"]  # the city's local time, stored in UTC


def test_others_may_not_open_the_committee_form(app, client, login_as, community):
    item = make_item(community)
    for who in ("resident", "committee_b", "admin"):
        login_as(who)
        assert client.get(f"/agenda-items/{item.id}/vote").status_code == 403


def test_the_community_list_has_an_empty_state_and_hides_draft_meetings(
    app, client, login_as, community_b, community
):
    html = client.get(f"/communities/{community_b.code}/votes").get_data(as_text=True)
    assert "暂无表决" in html
    draft_item = make_item(community, state="draft")
    vote = make_vote(app, community, item=draft_item)
    assert f"/votes/{vote.id}" not in client.get(f"/communities/{community.code}/votes").text
    assert client.get(f"/votes/{vote.id}").status_code == 404
    login_as("committee")
    assert f"/votes/{vote.id}" in client.get(f"/communities/{community.code}/votes").text


def test_the_meeting_page_include_shows_an_items_votes(app, client, community, login_as):
    from flask import render_template_string
    from flask_login import login_user

    vote = make_vote(app, community)
    item = vote.item
    template = '{% include "votes/_item_votes.html" %}'
    with app.test_request_context("/"):
        html = render_template_string(template, item=item)
        assert f"/votes/{vote.id}" in html and "投票进行中" in html
        assert f"/agenda-items/{item.id}/vote" not in html
    with app.test_request_context("/"):
        login_user(user_by_email("committee@example.org"))
        html = render_template_string(template, item=item)
        assert f"/agenda-items/{item.id}/vote" in html
    clock.freeze(vote.closes_at)
    with app.test_request_context("/"):
        html = render_template_string(template, item=item)
        assert "已结束：结果已公布" in html and "投票率" in html


def test_the_committee_desk_counts_the_votes_taking_ballots(app, client, login_as, community):
    """Open now counts (even before a read settles it); scheduled and past votes do not."""
    make_vote(app, community)
    make_vote(app, community, opens_in=timedelta(days=1))
    login_as("committee")
    page = client.get(f"/communities/{community.code}/desk").get_data(as_text=True)
    assert 'data-count="votes">1<' in page
    assert f'href="/communities/{community.code}/votes"' in page
