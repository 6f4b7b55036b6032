"""Comments, reports and automatic hiding, moderation, blocks, the public log, appeals."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.core import clock
from portal.deliberation.models import Appeal, Comment, ModerationAction
from portal.notifications.models import Notification
from tests.conftest import user_by_email


@pytest.fixture
def proposal(make_proposal):
    return make_proposal("open", threshold=50)


def _comment(client, headers, p, body="我支持，附近老人很多 <b>x</b>", stance="for", parent=None):
    data = {"body": body, "stance": stance}
    if parent:
        data = {"body": body, "parent_id": parent}
    return client.post(f"/api/v1/proposals/{p.id}/comments", json=data, headers=headers)


def _residents(make_user, community, n):
    return [make_user(community=community) for _ in range(n)]


def test_comment_with_stance_and_one_level_of_replies(client, api_token, proposal, db):
    r = _comment(client, api_token("resident2"), proposal)
    assert r.status_code == 201
    c = r.get_json()
    assert c["stance"] == "for" and "&lt;b&gt;" in c["body_html"] and c["badge"] is None
    reply = _comment(client, api_token("resident"), proposal, "谢谢", parent=c["id"])
    assert reply.status_code == 201 and reply.get_json()["stance"] is None
    deeper = _comment(
        client, api_token("resident2"), proposal, "再回复", parent=reply.get_json()["id"]
    )
    assert deeper.status_code == 400
    assert _comment(client, api_token("resident2"), proposal, stance=None).status_code == 400
    assert _comment(client, api_token("resident2"), proposal, "x" * 1001).status_code == 400
    listing = client.get(f"/api/v1/proposals/{proposal.id}/comments").get_json()
    assert listing["counts"] == {"for": 1, "against": 0, "question": 0}
    # The author hears about the comment; the commenter about the reply.
    kinds = db.session.scalars(
        sa.select(Notification.type).where(Notification.user_id == proposal.author_id)
    ).all()
    assert "proposal_comment" in kinds


def test_page_shows_summary_filters_and_links(app, api_token, proposal, client):
    _comment(client, api_token("resident2"), proposal, "https://example.org/map 看这里")
    _comment(client, api_token("resident3@example.org"), proposal, "反对", stance="against")
    html = (
        app.test_client()
        .get(f"/proposals/{proposal.id}", headers={"Accept-Language": "en"})
        .get_data(as_text=True)
    )
    assert "1 for · 1 against · 0 questions" in html
    assert 'href="https://example.org/map" rel="nofollow ugc noopener"' in html
    only = app.test_client().get(f"/proposals/{proposal.id}?stance=against").get_data(as_text=True)
    assert "反对" in only and "看这里" not in only


def test_who_may_comment(client, api_token, proposal, make_case, db):
    assert _comment(client, api_token("resident_b"), proposal).status_code == 403
    committee = _comment(
        client, api_token("committee"), proposal, "居委会会跟进", stance="question"
    )
    assert committee.status_code == 201 and committee.get_json()["badge"] == "committee"
    liaison = api_token("liaison.health-commission@example.org")
    assert _comment(client, liaison, proposal).status_code == 403
    case = make_case("accepted")
    r = client.post(
        f"/api/v1/proposals/{case.proposal_id}/comments",
        json={"body": "我们本周处理", "stance": "question"},
        headers=liaison,
    )
    assert r.status_code == 201
    body = r.get_json()
    assert body["badge"] == "liaison" and body["agency_code"] == "health-commission"


def test_edit_within_fifteen_minutes_then_delete(client, api_token, proposal):
    me = api_token("resident2")
    c = _comment(client, me, proposal).get_json()
    r = client.patch(f"/api/v1/comments/{c['id']}", json={"body": "改过了"}, headers=me)
    assert r.status_code == 200 and r.get_json()["edited"] is True
    assert (
        client.patch(
            f"/api/v1/comments/{c['id']}",
            json={"body": "偷改"},
            headers=api_token("resident3@example.org"),
        ).status_code
        == 403
    )
    clock.freeze(clock.now() + timedelta(minutes=16))
    me = api_token("resident2")
    r = client.patch(f"/api/v1/comments/{c['id']}", json={"body": "太晚"}, headers=me)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "edit_window_over"
    assert client.delete(f"/api/v1/comments/{c['id']}", headers=me).status_code == 204
    items = client.get(f"/api/v1/proposals/{proposal.id}/comments").get_json()["items"]
    assert items[0]["deleted"] is True and items[0]["body_html"] is None


def test_reports_auto_hide_at_exactly_the_threshold(
    client, api_token, proposal, make_user, community, db, app
):
    c = _comment(client, api_token("resident2"), proposal, "广告 加微信").get_json()
    reporters = _residents(make_user, community, 3)
    for i, who in enumerate(reporters):
        r = client.post(
            "/api/v1/reports",
            json={"target_type": "comment", "target_id": c["id"], "reason": "spam"},
            headers=api_token(who),
        )
        assert r.status_code == 201
        row = db.session.get(Comment, c["id"])
        db.session.refresh(row)
        assert row.hidden is (i == 2), i
    again = client.post(
        "/api/v1/reports",
        json={"target_type": "comment", "target_id": c["id"], "reason": "spam"},
        headers=api_token(reporters[0]),
    )
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_reported"
    row = db.session.get(Comment, c["id"])
    assert row.hidden_auto is True
    log = client.get("/api/v1/communities/110101001001/moderation-log").get_json()["items"]
    assert log[0]["action"] == "hide" and log[0]["automatic"] is True
    assert log[0]["actor_role"] == "system"
    html = app.test_client().get(f"/proposals/{proposal.id}").get_data(as_text=True)
    assert "广告 加微信" not in html


def test_report_rules(client, api_token, proposal):
    me = api_token("resident2")
    r = client.post(
        "/api/v1/reports",
        json={"target_type": "proposal", "target_id": proposal.id, "reason": "other"},
        headers=me,
    )
    assert r.status_code == 400  # "other" needs a note
    r = client.post(
        "/api/v1/reports",
        json={"target_type": "nope", "target_id": 1, "reason": "spam"},
        headers=me,
    )
    assert r.status_code == 400
    r = client.post(
        "/api/v1/reports",
        json={"target_type": "comment", "target_id": 999999, "reason": "spam"},
        headers=me,
    )
    assert r.status_code == 404


def _hide(
    client, api_token, target_type, target_id, who="committee", reason="offensive", note="人身攻击"
):
    return client.post(
        "/api/v1/moderation/actions",
        json={
            "action": "hide",
            "target_type": target_type,
            "target_id": target_id,
            "reason_code": reason,
            "note": note,
        },
        headers=api_token(who),
    )


def test_hiding_a_comment_sends_comment_hidden(client, api_token, proposal):
    from portal.deliberation.signals import comment_hidden

    c = _comment(client, api_token("resident2@example.org"), proposal, "你们都是骗子").get_json()
    seen = []

    def receiver(sender, **extra):
        seen.append((sender.id, extra["reason_code"], extra["automatic"]))

    comment_hidden.connect(receiver)
    try:
        assert _hide(client, api_token, "comment", c["id"]).status_code == 201
    finally:
        comment_hidden.disconnect(receiver)
    assert seen == [(c["id"], "offensive", False)]


def test_hide_restore_and_the_author_is_told_why(client, api_token, proposal, db):
    author = user_by_email("resident2@example.org")
    c = _comment(client, api_token(author), proposal, "你们都是骗子").get_json()
    assert _hide(client, api_token, "comment", c["id"], who="committee_b").status_code == 403
    assert _hide(client, api_token, "comment", c["id"], reason="").status_code == 400
    r = _hide(client, api_token, "comment", c["id"])
    assert r.status_code == 201
    note = db.session.scalar(
        sa.select(Notification).where(
            Notification.user_id == author.id, Notification.type == "content_hidden"
        )
    )
    assert note is not None
    item = client.get(f"/api/v1/proposals/{proposal.id}/comments").get_json()["items"][0]
    assert item["hidden"] and item["body_html"] is None and item["hidden_reason"] == "offensive"
    r = client.post(
        "/api/v1/moderation/actions",
        json={
            "action": "restore",
            "target_type": "comment",
            "target_id": c["id"],
            "reason_code": "no-violation",
        },
        headers=api_token("committee"),
    )
    assert r.status_code == 201


def test_hidden_proposal_keeps_status_and_supports(client, api_token, proposal, db, app):
    before = (proposal.status, proposal.support_count)
    assert (
        _hide(client, api_token, "proposal", proposal.id, reason="personal-data").status_code == 201
    )
    db.session.refresh(proposal)
    assert (proposal.status, proposal.support_count) == before and proposal.hidden
    assert (
        app.test_client()
        .get("/communities/110101001001/proposals")
        .get_data(as_text=True)
        .count(f'/proposals/{proposal.id}"')
        == 0
    )
    r = _comment(client, api_token("resident2"), proposal)
    assert r.status_code == 404
    r = client.post(f"/api/v1/proposals/{proposal.id}/support", headers=api_token("resident2"))
    assert r.status_code == 409


def test_lock_blocks_new_comments(client, api_token, proposal):
    r = client.post(
        "/api/v1/moderation/actions",
        json={"action": "lock", "target_type": "proposal", "target_id": proposal.id},
        headers=api_token("committee"),
    )
    assert r.status_code == 400  # a reason is required
    r = client.post(
        "/api/v1/moderation/actions",
        json={
            "action": "lock",
            "target_type": "proposal",
            "target_id": proposal.id,
            "note": "讨论已充分",
        },
        headers=api_token("committee"),
    )
    assert r.status_code == 201
    r = _comment(client, api_token("resident2"), proposal)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "locked"


def test_blocked_user_cannot_comment_report_or_support(client, api_token, proposal, db):
    c = _comment(client, api_token("resident2"), proposal, "刷屏").get_json()
    until = (clock.now() + timedelta(days=7)).isoformat()
    r = client.post(
        "/api/v1/moderation/actions",
        json={
            "action": "block",
            "target_type": "comment",
            "target_id": c["id"],
            "note": "多次刷屏",
            "until": until,
        },
        headers=api_token("committee"),
    )
    assert r.status_code == 201 and r.get_json()["target_type"] == "user"
    me = api_token("resident2")
    r = _comment(client, me, proposal)
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "blocked"
    r = client.post(
        "/api/v1/reports",
        json={"target_type": "proposal", "target_id": proposal.id, "reason": "spam"},
        headers=me,
    )
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "blocked"
    r = client.post(f"/api/v1/proposals/{proposal.id}/support", headers=me)
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "blocked"
    log = client.get("/api/v1/communities/110101001001/moderation-log").get_json()["items"]
    name = user_by_email("resident2@example.org").display_name
    assert log[0]["action"] == "block" and name not in str(log)
    page = client.get("/communities/110101001001/moderation-log").get_data(as_text=True)
    assert name not in page


def test_public_log_has_exactly_the_public_fields(client, api_token, proposal):
    c = _comment(client, api_token("resident2"), proposal).get_json()
    _hide(client, api_token, "comment", c["id"])
    entry = client.get("/api/v1/communities/110101001001/moderation-log").get_json()["items"][0]
    assert set(entry) == {
        "id",
        "at",
        "action",
        "automatic",
        "reason_code",
        "note",
        "actor_role",
        "target_type",
        "target_id",
    }
    assert entry["actor_role"] == "committee" and entry["reason_code"] == "offensive"


def test_appeal_goes_to_someone_else_and_reverses(
    client, api_token, proposal, db, make_user, community
):
    author = user_by_email("resident2@example.org")
    c = _comment(client, api_token(author), proposal, "我只是提意见").get_json()
    action_id = _hide(client, api_token, "comment", c["id"]).get_json()["id"]
    r = client.post(
        "/api/v1/appeals",
        json={"action_id": action_id, "note": "没有违规"},
        headers=api_token(author),
    )
    assert r.status_code == 201
    appeal = r.get_json()
    # Only one committee member: the district supervisor decides.
    assert appeal["decider_role"] == "supervisor"
    again = client.post(
        "/api/v1/appeals",
        json={"action_id": action_id, "note": "再申诉"},
        headers=api_token(author),
    )
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_appealed"
    assert (
        client.post(
            "/api/v1/appeals",
            json={"action_id": action_id, "note": "x"},
            headers=api_token("resident3@example.org"),
        ).status_code
        == 403
    )
    url = f"/api/v1/appeals/{appeal['id']}/decision"
    assert (
        client.post(
            url, json={"decision": "reverse", "note": "x"}, headers=api_token("committee")
        ).status_code
        == 403
    )  # the moderator
    r = client.post(
        url, json={"decision": "reverse", "note": "属于正常意见"}, headers=api_token("supervisor")
    )
    assert r.status_code == 200 and r.get_json()["status"] == "reversed"
    assert db.session.get(Comment, c["id"]).hidden is False
    actions = [
        e["action"]
        for e in client.get("/api/v1/communities/110101001001/moderation-log").get_json()["items"]
    ]
    assert actions[:3] == ["appeal_reversed", "restore", "hide"]


def test_appeal_goes_to_another_committee_member_when_there_is_one(
    client, api_token, proposal, make_user, db
):
    from portal.roles.models import Role
    from portal.roles.services import grant

    second = make_user()
    grant(None, second, Role.committee, "110101001001")
    db.session.commit()
    author = user_by_email("resident2@example.org")
    c = _comment(client, api_token(author), proposal, "意见").get_json()
    action_id = _hide(client, api_token, "comment", c["id"]).get_json()["id"]
    appeal = client.post(
        "/api/v1/appeals",
        json={"action_id": action_id, "note": "请复核"},
        headers=api_token(author),
    ).get_json()
    assert appeal["decider_role"] == "committee"
    r = client.post(
        f"/api/v1/appeals/{appeal['id']}/decision",
        json={"decision": "uphold", "note": "维持"},
        headers=api_token(second),
    )
    assert r.status_code == 200 and r.get_json()["status"] == "upheld"
    assert db.session.scalar(sa.select(Appeal.status)) == "upheld"


def test_workspace_bulk_hide_and_dismiss(
    app, login_as, client, api_token, proposal, db, make_user, community
):
    ids = [
        _comment(client, api_token("resident2"), proposal, f"垃圾{i}").get_json()["id"]
        for i in range(2)
    ]
    reporter = make_user(community=community)
    for i in ids:
        client.post(
            "/api/v1/reports",
            json={"target_type": "comment", "target_id": i, "reason": "spam"},
            headers=api_token(reporter),
        )
    staff = app.test_client()
    login_as("committee", staff)
    page = "/communities/110101001001/moderation"
    html = staff.get(page).get_data(as_text=True)
    assert "垃圾0" in html and "垃圾1" in html
    r = staff.form(
        "/moderation",
        {
            "action": "hide",
            "reason_code": "spam",
            "target": [f"comment:{i}" for i in ids],
            "next": page,
        },
        page=page,
    )
    assert r.status_code == 302
    assert all(db.session.get(Comment, i).hidden for i in ids)
    assert (
        db.session.scalar(
            sa.select(sa.func.count(ModerationAction.id)).where(ModerationAction.action == "hide")
        )
        == 2
    )
    staff.form(
        "/moderation",
        {
            "action": "dismiss",
            "reason_code": "no-violation",
            "target": [f"comment:{i}" for i in ids],
            "next": page,
        },
        page=page,
    )
    # The committee member reads in their own language, whatever the browser says.
    assert "暂无待处理的举报" in staff.get(page, headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )


def test_comment_forms_on_the_page(app, login_as, proposal, db):
    client = app.test_client()
    login_as("resident2", client)
    page = f"/proposals/{proposal.id}"
    r = client.form(
        f"/proposals/{proposal.id}/comments",
        {"stance": "against", "body": "我反对，理由如下"},
        page=page,
    )
    assert r.status_code == 302 and "#comment-" in r.headers["Location"]
    c = db.session.scalar(sa.select(Comment).order_by(Comment.id.desc()))
    client.form(
        f"/proposals/{proposal.id}/comments", {"body": "补充", "parent_id": c.id}, page=page
    )
    assert (
        db.session.scalar(sa.select(sa.func.count(Comment.id)).where(Comment.parent_id == c.id))
        == 1
    )
    other = app.test_client()
    login_as("resident3@example.org", other)
    r = other.form(
        "/reports",
        {"target_type": "comment", "target_id": c.id, "reason": "off-topic", "next": page},
        page=page,
    )
    assert r.status_code == 302
    assert db.session.get(Comment, c.id).report_count == 1


def test_three_hundred_comments_page_uses_bounded_queries(
    app, proposal, db, count_queries, make_user, community
):
    from portal.deliberation.services import render_body

    people = _residents(make_user, community, 5)
    rows = []
    for i in range(300):
        rows.append(
            Comment(
                proposal_id=proposal.id,
                author_id=people[i % 5].id,
                stance=("for", "against", "question")[i % 3],
                body=f"意见 {i}",
                body_html=render_body(f"意见 {i}"),
            )
        )
    db.session.add_all(rows)
    db.session.flush()
    replies = [
        Comment(
            proposal_id=proposal.id,
            author_id=people[0].id,
            parent_id=c.id,
            body="回复",
            body_html="回复",
        )
        for c in rows[:60]
    ]
    db.session.add_all(replies)
    db.session.commit()
    client = app.test_client()
    client.get(f"/proposals/{proposal.id}")
    with count_queries() as q:
        html = client.get(f"/proposals/{proposal.id}", headers={"Accept-Language": "en"}).get_data(
            as_text=True
        )
    assert "100 for · 100 against · 100 questions" in html
    assert q.count <= 25, q.count
    assert 'rel="next"' in html  # long threads paginate


def test_rejections_appear_in_the_public_log(make_proposal, client):
    p = make_proposal("rejected")
    entry = client.get("/api/v1/communities/110101001001/moderation-log").get_json()["items"][0]
    assert entry["action"] == "reject" and entry["target_id"] == p.id
    assert entry["reason_code"] == "other" and entry["actor_role"] == "committee"


def test_community_page_shows_moderation_figures(app, make_proposal):
    make_proposal("submitted")
    html = (
        app.test_client()
        .get("/communities/110101001001", headers={"Accept-Language": "en"})
        .get_data(as_text=True)
    )
    assert "Items waiting for review" in html and "Median review time" in html


def test_moderation_queue_loads_targets_in_bounded_queries(
    app, login_as, proposal, db, make_user, community, count_queries, api_token
):
    from html import unescape

    from markupsafe import escape

    from portal.deliberation.models import Report
    from portal.deliberation.services import render_body

    people = _residents(make_user, community, 3)
    page = "/communities/110101001001/moderation"
    staff = app.test_client()
    login_as("committee", staff)

    def report(n, start):
        rows = [
            Comment(
                proposal_id=proposal.id,
                author_id=people[0].id,
                body=f"举报{i}",
                body_html=render_body(f"举报{i}"),
            )
            for i in range(start, start + n)
        ]
        db.session.add_all(rows)
        db.session.flush()
        db.session.add_all(_report("comment", c.id, people[1], "spam") for c in rows)
        db.session.commit()

    def _report(kind, ident, reporter, reason):
        return Report(
            community_id=community.id,
            target_type=kind,
            target_id=ident,
            reporter_id=reporter.id,
            reason=reason,
        )

    db.session.add(_report("proposal", proposal.id, people[2], "off-topic"))
    report(2, 0)
    with count_queries() as few:
        staff.get(page)
    report(30, 2)
    with count_queries() as many:
        html = staff.get(page).get_data(as_text=True)
    assert many.count == few.count
    # 33 reported items, oldest first, 25 a page; the next page holds the rest, none twice.
    seen = re.findall(r'name="target" value="([a-z]+:[0-9]+)"', html)
    more = re.search(r'<a rel="next" href="([^"]+)"', html)
    assert len(seen) == 25 and more
    rest = staff.get(unescape(more.group(1))).get_data(as_text=True)
    seen += re.findall(r'name="target" value="([a-z]+:[0-9]+)"', rest)
    assert len(seen) == len(set(seen)) == 33 and 'rel="next"' not in rest
    assert "举报31" in rest and str(escape(proposal.title)) in html + rest
    assert staff.get(page + "?after=nonsense").status_code == 400
    # A page may end on any kind of reported item, a meeting's question too.
    from portal.core.input import encode_cursor

    question_cursor = encode_cursor(["2026-01-01T00:00:00+00:00", "question", 1])
    assert staff.get(page + "?after=" + question_cursor).status_code == 200
    # The API pages the same queue.
    token = api_token("committee")
    url, walked = "/api/v1/communities/110101001001/moderation-queue?limit=10", []
    while url:
        data = staff.get(url, headers=token).get_json()
        walked += [f"{i['target_type']}:{i['target_id']}" for i in data["items"]]
        url = data["next"]
    assert walked == seen
    bad = staff.get(
        "/api/v1/communities/110101001001/moderation-queue?cursor=bm9wZQ", headers=token
    )
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "invalid_cursor"


def test_thread_page_nests_replies_and_numbers_each_comments_forms(
    app, login_as, proposal, db, make_user, community
):
    from html import unescape

    from portal.deliberation.services import render_body

    me = user_by_email("resident2@example.org")
    other = make_user(community=community)
    old = clock.now() - timedelta(hours=1)
    top = [
        Comment(
            proposal_id=proposal.id,
            author_id=(me if i % 2 else other).id,
            stance="for",
            body=f"意见{i}",
            body_html=render_body(f"意见{i}"),
            created_at=clock.now() if i == 1 else old,
        )
        for i in range(22)
    ]
    db.session.add_all(top)
    db.session.flush()
    replies = [
        Comment(proposal_id=proposal.id, author_id=me.id, parent_id=parent.id, body=b)
        for parent, b in ((top[0], "回复甲"), (top[0], "回复乙"), (top[20], "下一页的回复"))
    ]
    for r in replies:
        r.body_html = render_body(r.body)
    db.session.add_all(replies)
    db.session.commit()
    client = app.test_client()
    login_as(me, client)
    html = client.get(f"/proposals/{proposal.id}").get_data(as_text=True)
    first, second = top[0].id, top[1].id
    # Replies sit under their comment, oldest first; the next page's reply is not here.
    thread = re.search(rf'id="comment-{first}".*?<ol class="replies">(.*?)</ol>', html, re.S)
    assert thread and thread.group(1).index("回复甲") < thread.group(1).index("回复乙")
    assert "下一页的回复" not in html and f'id="comment-{top[20].id}"' not in html
    # Someone else's comment: a report form about it; one's own: edit (in the window) and delete.
    assert f'name="target_id" value="{first}"' in html
    assert f'id="reason-comment-{first}"' in html and f'for="rnote-comment-{first}"' in html
    assert f'value="/proposals/{proposal.id}#comment-{first}"' in html
    assert (
        f'href="/comments/{second}/edit"' in html and f'action="/comments/{second}/delete"' in html
    )
    assert f'name="target_id" value="{second}"' not in html
    assert f'href="/comments/{top[3].id}/edit"' not in html  # an hour old: no longer editable
    # A reply form under each top-level comment, none under a reply.
    assert html.count('name="parent_id"') == 20 and f'id="reply-{first}"' in html
    assert f'id="reply-{replies[0].id}"' not in html
    more = re.search(r'<a rel="next" href="([^"]+)"', html)
    assert more and f"after={top[19].id}" in unescape(more.group(1))
    rest = client.get(unescape(more.group(1))).get_data(as_text=True)
    assert "下一页的回复" in rest and f'id="comment-{first}"' not in rest


def test_the_thread_escapes_what_people_wrote_and_keeps_the_rendered_body(app):
    from markupsafe import Markup

    from portal.core.templating import STAND_IN
    from portal.deliberation.views import ThreadComment, comment_items

    def comment(ident, **kw):
        return ThreadComment(
            **{
                **dict.fromkeys(("hidden_reason", "hidden_note", "badge")),
                "id": ident,
                "author_id": 7,
                "name": "<b>甲</b>",
                "stance": "for",
                "agency": "",
                "created_iso": "2026-01-01T00:00:00+00:00",
                "created": "<i>",
                "body_html": "<p>正文</p>",
                "edited": True,
                "visible": True,
                "deleted": False,
                "hidden_auto": False,
                "editable": False,
                "replyable": True,
                "replies": [],
                **kw,
            }
        )

    hidden = comment(
        2, visible=False, hidden_reason="off-topic", hidden_note="<script>x", replyable=False
    )
    liaison = comment(3, badge="liaison", agency="<u>局</u>", stance="<x>", replyable=False)
    with app.test_request_context("/"):
        html = comment_items(
            [comment(1, replies=[hidden, liaison])],
            me=None,
            committee=Markup("委员会"),
            reply=Markup(f'<form data-n="{STAND_IN}"></form>'),  # noqa: S704
        )
    assert isinstance(html, Markup)
    assert "<b>" not in html and "&lt;b&gt;甲&lt;/b&gt;" in html
    assert "<script>" not in html and "&lt;script&gt;x" in html
    assert "<u>" not in html and "<x>" not in html and "<i>" not in html
    assert '<div class="comment-body user-content"><p>正文</p></div>' in html
    assert '<form data-n="1"></form>' in html  # the reply form, under the top comment only
    assert '<ol class="replies">' in html and html.count("<form") == 1
