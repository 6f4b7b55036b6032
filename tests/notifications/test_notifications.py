"""notify(), the header count, the notifications page and API, and the mail outbox."""

from __future__ import annotations

import socket
import time
from email.header import decode_header, make_header

import pytest
import sqlalchemy as sa

from portal.notifications.models import Notification, OutboxMessage
from portal.notifications.services import notify


def _notes(user, n=3):
    names = {"zh_Hans": "多福巷社区", "en": "Duofuxiang Community"}
    return [
        notify([user], "residency_confirmed", user, url="/residency", params={"community": names})[
            0
        ]
        for _ in range(n)
    ]


def test_notify_dedupes_recipients_and_refuses_unknown_types(db, make_user):
    user = make_user()
    rows = notify(
        [user, user.id],
        "residency_confirmed",
        user,
        url="/residency",
        params={"community": {"zh_Hans": "甲", "en": "A"}},
    )
    assert len(rows) == 1
    with pytest.raises(ValueError):
        notify([user], "no_such_type", user, url="/")


def test_header_count_page_and_mark_read(app, login_as, db, make_user):
    user = make_user()
    _notes(user, 3)
    db.session.commit()
    client = app.test_client()
    login_as(user, client)
    home = client.get("/").get_data(as_text=True)
    assert 'class="badge">3' in home
    page = client.get("/notifications").get_data(as_text=True)
    assert page.count('class="unread"') == 3 and "多福巷社区" in page
    first = db.session.scalars(
        sa.select(Notification).where(Notification.user_id == user.id)
    ).first()
    r = client.form(f"/notifications/{first.id}/open", page="/notifications")
    assert r.status_code == 302 and r.headers["Location"] == "/residency"
    assert 'class="badge">2' in client.get("/").get_data(as_text=True)
    client.form("/notifications/read-all", page="/notifications")
    assert 'class="badge"' not in client.get("/").get_data(as_text=True)


def test_someone_elses_notification_is_404(app, login_as, make_user, db):
    owner = make_user()
    note = _notes(owner, 1)[0]
    db.session.commit()
    client = app.test_client()
    login_as(make_user(), client)
    assert client.form(f"/notifications/{note.id}/open", page="/").status_code == 404


def test_empty_state(app, login_as, make_user):
    client = app.test_client()
    login_as(make_user(locale="en"), client)
    assert "Nothing yet" in client.get("/notifications").get_data(as_text=True)


def test_the_page_shows_the_newest_twenty_then_the_older_ones(
    app, login_as, make_user, db, count_queries
):
    """Newest first, twenty a page, a link to the older ones keeping the place by a cursor
    (no count of all of them on every view); another person's never shown; a cursor that is
    not one of ours is a 400; past the last one, a way back instead of "nothing yet"."""
    import re

    user, other = make_user(locale="en"), make_user()
    ids = [n.id for n in _notes(user, 25)]
    _notes(other, 2)
    db.session.commit()
    client = app.test_client()
    login_as(user, client)

    def shown(html):
        return [int(i) for i in re.findall(r"/notifications/(\d+)/open", html)]

    client.get("/notifications")
    with count_queries() as q:
        first = client.get("/notifications").get_data(as_text=True)
    assert shown(first) == sorted(ids, reverse=True)[:20]
    assert q.count <= 4  # sign-in, the page (one statement), the time zone, the cases' stages
    older = re.search(r'<a rel="next" href="([^"]+)">Older notifications</a>', first)
    assert older, first
    second = client.get(older.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert shown(second) == sorted(ids, reverse=True)[20:]
    assert 'rel="next"' not in second
    assert client.get("/notifications?cursor=garbage").status_code == 400
    from portal.core.input import encode_cursor

    past = client.get("/notifications?cursor=" + encode_cursor([min(ids)])).get_data(as_text=True)
    assert shown(past) == [] and "No older notifications." in past and "Nothing yet" not in past


def test_api_list_filter_and_mark_read(client, api_token, make_user, db):
    user = make_user(locale="en")
    other = make_user()
    _notes(user, 3)
    theirs = _notes(other, 1)[0]
    db.session.commit()
    me = api_token(user)
    items = client.get("/api/v1/notifications?unread=true", headers=me).get_json()["items"]
    assert len(items) == 3 and items[0]["id"] > items[1]["id"]  # newest first
    assert items[0]["title"].startswith("Your residency in Duofuxiang Community")
    assert items[0]["read"] is False and items[0]["url"] == "/residency"
    r = client.post(
        "/api/v1/notifications/read", json={"ids": [items[0]["id"], theirs.id]}, headers=me
    )
    assert r.get_json() == {"marked": 1, "unread": 2}
    db.session.refresh(theirs)
    assert theirs.read_at is None  # someone else's notification is untouched
    assert (
        len(client.get("/api/v1/notifications?unread=false", headers=me).get_json()["items"]) == 1
    )
    r = client.post("/api/v1/notifications/read", json={"all": True}, headers=me)
    assert r.get_json() == {"marked": 2, "unread": 0}
    for bad in ({}, {"ids": []}, {"ids": ["1"]}, {"ids": [True]}, {"all": "yes"}):
        assert client.post("/api/v1/notifications/read", json=bad, headers=me).status_code == 400, (
            bad
        )
    assert client.get("/api/v1/notifications?unread=maybe", headers=me).status_code == 400


def test_api_notifications_paginate(client, api_token, make_user, db):
    user = make_user()
    _notes(user, 5)
    db.session.commit()
    me = api_token(user)
    body = client.get("/api/v1/notifications?limit=2", headers=me).get_json()
    ids = [i["id"] for i in body["items"]]
    while body["next"]:
        body = client.get(body["next"], headers=me).get_json()
        ids += [i["id"] for i in body["items"]]
    assert ids == sorted(ids, reverse=True) and len(ids) == 5


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_outbox_is_delivered_over_smtp(app, db, make_user):
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    received = []

    class Collect(Message):
        def handle_message(self, message):
            received.append(message)

    port = _free_port()
    server = Controller(Collect(), hostname="127.0.0.1", port=port)
    server.start()
    try:
        user = make_user()
        from portal.notifications.mail import queue_email

        queue_email(user, "测试 subject", "body with a link https://example.org/x", kind="test")
        db.session.commit()
        pending = db.session.scalar(
            sa.select(sa.func.count(OutboxMessage.id)).where(OutboxMessage.sent_at.is_(None))
        )
        app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_USE_TLS=False)
        result = app.test_cli_runner().invoke(args=["outbox", "send"])
        assert result.exit_code == 0, result.output
        assert f"{pending} sent, 0 failed" in result.output
        for _ in range(50):
            if len(received) >= pending:
                break
            time.sleep(0.05)
        mine = [m for m in received if m["To"] == user.email]
        subject = str(make_header(decode_header(mine[0]["Subject"])))
        assert len(mine) == 1 and subject == "测试 subject"
        assert (
            db.session.scalar(
                sa.select(sa.func.count(OutboxMessage.id)).where(OutboxMessage.sent_at.is_(None))
            )
            == 0
        )
    finally:
        server.stop()
        app.config["MAIL_SERVER"] = None


def test_outbox_send_without_a_server_says_so(app):
    app.config["MAIL_SERVER"] = None
    result = app.test_cli_runner().invoke(args=["outbox", "send"])
    assert result.exit_code != 0 and "MAIL_SERVER" in result.output


def test_a_notification_title_escapes_what_people_wrote_and_translates_ours(app):
    """``title_html``: a title from people's words is escaped and marked as their content, a
    part of ours (a dict of both languages) comes in the reader's language, escaped; an
    unknown type shows its name, a text that lacks its value shows the text as it is."""
    from portal.notifications.services import title_html

    def note(type, params):
        return Notification(type=type, params=params, subject_type="proposals", subject_id="1")

    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        html = title_html(note("proposal_approved", {"title": '<b>5 & "x"</b>'}))
        assert html == (
            'Your proposal “<span class="user-content">&lt;b&gt;5 &amp; &#34;x&#34;&lt;/b&gt;'
            "</span>” is open for support."
        )
        ours = title_html(note("proposal_approved", {"title": {"zh_Hans": "甲", "en": "<A>"}}))
        assert ours == "Your proposal “&lt;A&gt;” is open for support."
        assert title_html(note("<odd>", {})) == "&lt;odd&gt;"
        assert title_html(note("proposal_approved", {})) == (
            "Your proposal “%(title)s” is open for support."
        )
    with app.test_request_context("/", headers={"Accept-Language": "zh-CN"}):
        zh = title_html(note("proposal_approved", {"title": "<i>"}))
        assert '<span class="user-content">&lt;i&gt;</span>' in zh and "<i>" not in zh
