"""Data rights: deletion (re-authenticated, a tombstone, counts kept, every personal field
gone, the number's HMAC stopping a second support), export, who has seen my data, retention."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import sqlalchemy as sa

from portal.accounts.models import ApiToken, User
from portal.audit.models import AccessEntry
from portal.core import clock
from portal.notifications.models import OutboxMessage
from portal.places.models import Community
from portal.proposals.models import Support
from portal.residency.models import ResidencyRequest, ResidencyStatus
from tests.conftest import DEMO_PASSWORD, user_by_email

PHONE2 = "+8613800138022"  # resident2@example.org


def last_code(db, phone: str) -> str:
    body = db.session.scalar(
        sa.select(OutboxMessage.body)
        .where(OutboxMessage.to_address == phone)
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    )
    assert body, f"no text to {phone}"
    return re.search(r"\b(\d{6})\b", body).group(1)


def err(r) -> str:
    return r.get_json()["error"]["code"]


# --- re-authentication ------------------------------------------------------------------------


def test_deletion_needs_a_fresh_code_or_the_password(client, api_token, db):
    headers = api_token("resident2")
    r = client.delete("/api/v1/me", headers=headers)
    assert r.status_code == 401 and err(r) == "reauthentication_required"
    r = client.delete("/api/v1/me", headers=headers, json={})
    assert r.status_code == 401 and err(r) == "reauthentication_required"
    r = client.delete("/api/v1/me", headers=headers, json={"password": "not-the-password"})
    assert r.status_code == 401 and err(r) == "invalid_password"
    r = client.delete("/api/v1/me", headers=headers, json={"code": "123456"})
    assert r.status_code == 401 and err(r) == "invalid_code"
    user = user_by_email("resident2@example.org")
    assert user.erased_at is None and user.phone == PHONE2
    assert client.get("/api/v1/me", headers=headers).status_code == 200


def test_a_sign_in_code_does_not_delete(client, api_token, db):
    headers = api_token("resident2")
    assert client.post("/api/v1/auth/sms-code", json={"phone": PHONE2}).status_code == 202
    r = client.delete("/api/v1/me", headers=headers, json={"code": last_code(db, PHONE2)})
    assert r.status_code == 401 and err(r) == "invalid_code"


def test_delete_with_a_reauthentication_code(client, api_token, db):
    headers = api_token("resident2")
    assert client.post("/api/v1/me/reauth-code", headers=headers).status_code == 202
    code = last_code(db, PHONE2)
    r = client.delete("/api/v1/me", headers=headers, json={"code": code})
    assert r.status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken)) >= 0
    gone = db.session.scalar(sa.select(User).where(User.erased_at.is_not(None)))
    assert gone.phone is None and gone.email is None and gone.display_name == ""
    assert gone.phone_hmac and PHONE2 not in gone.phone_hmac


def test_staff_must_have_their_roles_revoked_first(client, api_token, db):
    headers = api_token("committee")
    r = client.delete("/api/v1/me", headers=headers, json={"password": DEMO_PASSWORD})
    assert r.status_code == 409 and err(r) == "staff_roles_held"
    user = user_by_email("committee@example.org")
    assert user.erased_at is None and user.password_hash
    assert client.get("/api/v1/me", headers=headers).status_code == 200


# --- the tombstone ----------------------------------------------------------------------------


def _text_columns():
    from portal.extensions import db as _db

    for table in _db.metadata.sorted_tables:
        for col in table.columns:
            if isinstance(col.type, sa.String | sa.Text | sa.JSON) and not isinstance(
                col.type, sa.Enum
            ):
                yield table, col


def _scan(db, needles: list[str]) -> list[str]:
    found = []
    for table, col in _text_columns():
        value = sa.cast(col, sa.Text) if isinstance(col.type, sa.JSON) else col
        for needle in needles:
            hit = db.session.execute(
                sa.select(sa.func.count())
                .select_from(table)
                .where(value.contains(needle, autoescape=True))
            ).scalar()
            if hit:
                found.append(f"{table.name}.{col.name} holds {needle!r}")
    return found


def test_deletion_keeps_every_count_and_erases_every_personal_field(
    app, client, api_token, login_as, make_proposal, db
):
    author = user_by_email("resident1@example.org")
    author.display_name = "王阿姨独有名字"
    db.session.commit()
    p = make_proposal("open", threshold=10)
    headers = api_token("resident")
    supporter = api_token("resident2")
    assert client.post(f"/api/v1/proposals/{p.id}/support", headers=supporter).status_code == 201
    r = client.post(
        f"/api/v1/proposals/{p.id}/comments",
        headers=headers,
        json={"body": "支持这个提议", "stance": "for"},
    )
    assert r.status_code == 201, r.get_json()
    community = db.session.get(Community, author.community_id)
    residents = community.confirmed_residents
    db.session.refresh(p)
    supports = p.support_count
    assert supports == 2
    phone, email, name = author.phone, author.email, author.display_name

    r = client.delete("/api/v1/me", headers=headers, json={"password": DEMO_PASSWORD})
    assert r.status_code == 204
    db.session.expire_all()
    db.session.refresh(p)
    assert p.support_count == supports
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(Support).where(Support.proposal_id == p.id)
        )
        == supports
    )
    assert db.session.get(Community, community.id).confirmed_residents == residents - 1
    tomb = db.session.get(User, author.id)
    assert tomb.erased_at is not None and tomb.community_id is None
    # Public contributions stay, by "former resident", in both languages.
    page = client.get(f"/proposals/{p.id}", headers={"Accept-Language": "en"})
    assert "Former resident" in page.get_data(as_text=True)
    page = client.get(f"/proposals/{p.id}", headers={"Accept-Language": "zh-CN"})
    assert "前居民" in page.get_data(as_text=True)
    detail = client.get(f"/api/v1/proposals/{p.id}", headers={"Accept-Language": "en"})
    assert detail.get_json()["author"]["display_name"] == "Former resident"
    # No text column of any table holds the account's number, address or name any more.
    leaks = _scan(db, [phone, phone[3:], email, name])
    assert not leaks, leaks
    assert "支持这个提议" in page.get_data(as_text=True)  # the contribution stays


def test_the_same_number_registered_again_cannot_support_twice(
    app, client, api_token, make_proposal, db
):
    p = make_proposal("open", threshold=10)
    other = make_proposal("open", threshold=10)
    old = api_token("resident2")
    assert client.post(f"/api/v1/proposals/{p.id}/support", headers=old).status_code == 201
    assert (
        client.delete("/api/v1/me", headers=old, json={"password": DEMO_PASSWORD}).status_code
        == 204
    )
    # The same number signs up again and is confirmed in the same community.
    assert client.post("/api/v1/auth/sms-code", json={"phone": PHONE2}).status_code == 202
    r = client.post(
        "/api/v1/auth/token",
        json={"phone": PHONE2, "code": last_code(db, PHONE2), "accept_privacy": True},
    )
    assert r.status_code == 200 and r.get_json()["new_account"] is True
    new = {"Authorization": f"Bearer {r.get_json()['token']}"}
    user = db.session.scalar(sa.select(User).where(User.phone == PHONE2))
    from portal.residency.services import _move_resident

    _move_resident(user, db.session.get(Community, p.community_id))
    db.session.commit()
    r = client.post(f"/api/v1/proposals/{p.id}/support", headers=new)
    assert r.status_code == 409 and err(r) == "supported_before"
    db.session.refresh(p)
    assert p.support_count == 2
    # Another proposal: the number never supported it.
    assert client.post(f"/api/v1/proposals/{other.id}/support", headers=new).status_code == 201


def test_a_deleted_voter_registered_again_cannot_vote_again(app, client, api_token, community, db):
    """The ballot of the deleted account still counts; the number, registered again and
    confirmed in the same community, is no elector of that vote (electors are frozen at
    opening, and a residency confirmed later does not join them), so it cannot vote twice."""
    from portal.residency.services import _move_resident
    from portal.votes.models import Ballot
    from tests.votes.factories import make_vote

    vote = make_vote(app, community)
    option = vote.options[0].id
    old = api_token("resident2")
    r = client.put(f"/api/v1/votes/{vote.id}/ballot", json={"option": option}, headers=old)
    assert r.status_code == 200
    assert (
        client.delete("/api/v1/me", headers=old, json={"password": DEMO_PASSWORD}).status_code
        == 204
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ballot)) == 1  # still counts
    assert client.post("/api/v1/auth/sms-code", json={"phone": PHONE2}).status_code == 202
    r = client.post(
        "/api/v1/auth/token",
        json={"phone": PHONE2, "code": last_code(db, PHONE2), "accept_privacy": True},
    )
    new = {"Authorization": f"Bearer {r.get_json()['token']}"}
    user = db.session.scalar(sa.select(User).where(User.phone == PHONE2))
    db.session.add(
        ResidencyRequest(
            user_id=user.id,
            community_id=community.id,
            status=ResidencyStatus.confirmed,
            decided_at=clock.now(),
        )
    )
    _move_resident(user, community)
    db.session.commit()
    r = client.put(f"/api/v1/votes/{vote.id}/ballot", json={"option": option}, headers=new)
    assert r.status_code in (403, 409), r.get_json()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ballot)) == 1


# --- export -----------------------------------------------------------------------------------


def test_export_is_a_downloadable_archive_of_everything(client, api_token, make_proposal, db):
    p = make_proposal("open", threshold=10)
    headers = api_token("resident2")
    client.post(f"/api/v1/proposals/{p.id}/support", headers=headers)
    r = client.get("/api/v1/me/export", headers=headers)
    assert r.status_code == 200
    assert r.headers["Content-Disposition"].startswith("attachment; filename=")
    data = json.loads(r.get_data(as_text=True))
    assert data["account"]["phone"] == PHONE2
    assert data["account"]["email"] == "resident2@example.org"
    assert {"proposal_id": p.id}.items() <= data["supports"][-1].items()
    for key in (
        "residency_requests",
        "proposals",
        "comments",
        "open_ballots",
        "closed_votes",
        "case_feedback",
        "notifications",
        "consents",
        "access_log",
    ):
        assert isinstance(data[key], list)
    assert client.get("/api/v1/me/export").status_code == 401


def test_export_lists_only_the_residents_own_supports(client, api_token, make_proposal, db):
    p = make_proposal("open", threshold=10)
    client.post(f"/api/v1/proposals/{p.id}/support", headers=api_token("resident2"))
    data = client.get("/api/v1/me/export", headers=api_token("resident_b")).get_json()
    assert all(s["proposal_id"] != p.id for s in data["supports"])


# --- who has seen my data ---------------------------------------------------------------------


def test_the_committees_view_of_a_request_is_listed_to_the_resident(
    app, client, api_token, login_as, make_user, community, db
):
    newcomer = make_user()
    headers = api_token(newcomer)
    r = client.post(
        "/api/v1/residency",
        headers=headers,
        json={"community_code": community.code, "address_note": "3号楼2单元"},
    )
    assert r.status_code == 201
    assert client.get("/api/v1/me/access-log", headers=headers).get_json()["items"] == []
    staff = app.test_client()
    login_as("committee", staff)
    assert staff.get(f"/communities/{community.code}/residency").status_code == 200
    items = client.get("/api/v1/me/access-log", headers=headers).get_json()["items"]
    assert [(i["role"], i["scope_code"], i["purpose"]) for i in items] == [
        ("committee", community.code, "residency_queue")
    ]
    assert items[0]["organisation"] == community.name_zh  # the token's account reads 中文
    # The page words it, by office, not by name.
    login_as(newcomer)
    text = client.get("/account/access-log").get_data(as_text=True)  # the account's 中文
    assert "居委会" in text and "审核居民申请" in text and community.name_zh in text
    committee = user_by_email("committee@example.org")
    assert committee.display_name not in text


def test_one_queue_view_is_one_insert(app, login_as, make_user, community, db):
    for _ in range(3):
        u = make_user()
        db.session.add(ResidencyRequest(user_id=u.id, community_id=community.id))
    db.session.commit()
    staff = app.test_client()
    login_as("committee", staff)
    from portal.extensions import db as _db

    seen: list[str] = []

    def before(_conn, _cursor, statement, *_args, **_kwargs):
        seen.append(statement)

    sa.event.listen(_db.engine, "before_cursor_execute", before)
    try:
        assert staff.get(f"/communities/{community.code}/residency").status_code == 200
    finally:
        sa.event.remove(_db.engine, "before_cursor_execute", before)
    inserts = [s for s in seen if s.lstrip().upper().startswith("INSERT INTO ACCESS_LOG")]
    assert len(inserts) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AccessEntry)) >= 3


def test_a_decision_is_logged_for_its_resident(app, login_as, make_user, community, db):
    u = make_user()
    req = ResidencyRequest(user_id=u.id, community_id=community.id)
    db.session.add(req)
    db.session.commit()
    from portal.residency.services import decide

    with app.test_request_context("/"):
        decide(user_by_email("committee@example.org"), req, "approve", None)
    purposes = db.session.scalars(
        sa.select(AccessEntry.purpose).where(AccessEntry.resident_id == u.id)
    ).all()
    assert purposes == ["residency_decision"]


# --- retention --------------------------------------------------------------------------------


def test_anonymise_strips_closed_records_and_forgets_old_views(app, make_user, community, db):
    u = make_user()
    old = clock.now() - timedelta(days=400)
    req = ResidencyRequest(
        user_id=u.id,
        community_id=community.id,
        address_note="幸福里7号",
        status=ResidencyStatus.confirmed,
        decided_at=old,
        created_at=old,
    )
    fresh = ResidencyRequest(
        user_id=u.id,
        community_id=community.id,
        address_note="新地址",
        status=ResidencyStatus.rejected,
        reason="不在本社区",
        decided_at=clock.now(),
    )
    db.session.add_all([req, fresh])
    db.session.add(
        AccessEntry(
            resident_id=u.id,
            role="committee",
            scope_type="community",
            purpose="residency_queue",
            created_at=old,
        )
    )
    db.session.add(
        AccessEntry(
            resident_id=u.id, role="committee", scope_type="community", purpose="residency_queue"
        )
    )
    from portal.accounts.models import SmsCode, SmsNumber

    db.session.add(SmsNumber(phone="+8613912340000", last_sent_at=old))
    db.session.flush()
    db.session.add(
        SmsCode(
            phone="+8613912340000",
            purpose="sign_in",
            ip="127.0.0.1",
            code_hmac="0" * 64,
            created_at=old,
            expires_at=old,
        )
    )
    db.session.commit()
    r = app.test_cli_runner().invoke(args=["privacy", "anonymise"])
    assert r.exit_code == 0, r.output
    assert "1 residency requests" in r.output and "1 access log" in r.output
    db.session.expire_all()
    assert db.session.get(ResidencyRequest, req.id).address_note == ""
    assert db.session.get(ResidencyRequest, fresh.id).address_note == "新地址"
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(AccessEntry)
            .where(AccessEntry.resident_id == u.id)
        )
        == 1
    )
    assert db.session.get(SmsNumber, "+8613912340000") is None  # the number is forgotten
    again = app.test_cli_runner().invoke(args=["privacy", "anonymise"])
    assert "0 residency requests" in again.output


def test_access_log_is_kept_at_least_six_months(monkeypatch):
    from portal.config import load_config

    monkeypatch.setenv("ACCESS_LOG_DAYS", "30")
    assert load_config({"TESTING": True})["ACCESS_LOG_DAYS"] >= 183


# --- pages ------------------------------------------------------------------------------------


def test_pages_lead_to_download_and_deletion(app, client, login_as, db):
    login_as("resident2")
    page = client.get("/account/data", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "/account/data/export.json" in page and "/account/delete" in page
    r = client.get("/account/data/export.json")
    assert r.status_code == 200 and "attachment" in r.headers["Content-Disposition"]
    assert client.get("/account/delete").status_code == 200


def test_delete_page_asks_for_confirmation_and_a_code(app, client, login_as, db):
    login_as("resident2")
    r = client.form("/account/delete", page="/account/delete", data={"code": "", "confirm": ""})
    assert r.status_code == 400
    assert user_by_email("resident2@example.org").erased_at is None
    r = client.form("/account/delete/code", page="/account/delete")
    assert r.status_code == 200
    code = last_code(db, PHONE2)
    r = client.form("/account/delete", page="/account/delete", data={"code": code, "confirm": "y"})
    assert r.status_code == 302
    assert db.session.scalar(sa.select(User).where(User.phone == PHONE2)) is None
    assert client.get("/account").status_code == 302  # signed out


def test_moderation_and_blocks_are_logged_for_the_author(
    app, client, api_token, make_proposal, login_as, db
):
    p = make_proposal("open", threshold=10)
    r = client.post(
        "/api/v1/reports",
        headers=api_token("resident2"),
        json={"target_type": "proposal", "target_id": p.id, "reason": "spam"},
    )
    assert r.status_code in (201, 202), r.get_json()
    staff = app.test_client()
    login_as("committee", staff)
    assert staff.get(f"/communities/{p.community.code}/moderation").status_code == 200
    author = user_by_email("resident1@example.org")
    purposes = db.session.scalars(
        sa.select(AccessEntry.purpose).where(AccessEntry.resident_id == author.id)
    ).all()
    assert "reports" in purposes
    from portal.deliberation.services.moderation import block_user

    with app.test_request_context("/"):
        block_user(user_by_email("committee@example.org"), p.community, author, note="广告")
    purposes = db.session.scalars(
        sa.select(AccessEntry.purpose).where(AccessEntry.resident_id == author.id)
    ).all()
    assert "blocks" in purposes


# --- correcting -------------------------------------------------------------------------------


def test_the_resident_corrects_the_email_address_and_the_address_note(
    app, client, login_as, make_user, community, db
):
    user = make_user()
    db.session.add(ResidencyRequest(user_id=user.id, community_id=community.id, address_note="旧"))
    db.session.commit()
    login_as(user)
    r = client.form(
        "/account/data/address-note", page="/account/data", data={"address_note": "x" * 201}
    )
    assert r.status_code == 400 and "x" * 201 in r.get_data(as_text=True)  # kept, at the field
    r = client.form(
        "/account/data/address-note", page="/account/data", data={"address_note": "5号楼1单元"}
    )
    assert r.status_code == 302
    req = db.session.scalar(sa.select(ResidencyRequest).where(ResidencyRequest.user_id == user.id))
    assert req.address_note == "5号楼1单元"
    r = client.form("/account/data/email", page="/account/data", data={"email": "not-an-address"})
    assert r.status_code == 400
    taken = "resident2@example.org"
    r = client.form("/account/data/email", page="/account/data", data={"email": taken})
    assert r.status_code == 409 and user.email != taken
    r = client.form("/account/data/email", page="/account/data", data={"email": "new@example.org"})
    assert r.status_code == 302
    db.session.refresh(user)
    assert user.email == "new@example.org" and user.email_confirmed_at is None


def test_an_address_note_needs_a_request(app, client, login_as, make_user, db):
    login_as(make_user())
    page = client.get("/account/data").get_data(as_text=True)
    assert "/account/data/address-note" not in page
    r = client.form("/account/data/address-note", page="/account/data", data={"address_note": "1"})
    assert r.status_code == 409


def test_the_privacy_notice_tells_the_configured_retention(app, client, db):
    app.config["ANONYMISE_AFTER_DAYS"], old = 400, app.config["ANONYMISE_AFTER_DAYS"]
    try:
        page = client.get("/privacy", headers={"Accept-Language": "en"}).get_data(as_text=True)
    finally:
        app.config["ANONYMISE_AFTER_DAYS"] = old
    assert "erased 400 days after they were closed" in page
    assert f"kept {app.config['ACCESS_LOG_DAYS']} days" in page
    zh = client.get("/privacy", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "谁查看过我的数据" in zh


def test_a_deleted_residents_place_at_a_coming_meeting_goes_to_the_waitlist(app, make_meeting, db):
    from portal.meetings import services as meetings
    from portal.meetings.models import Registration
    from portal.privacy.services import erase_account

    m = make_meeting(capacity=1, publish=True)
    first, second = user_by_email("resident2@example.org"), user_by_email("resident1@example.org")
    with app.test_request_context("/"):
        meetings.register(first, m)
        waiting = meetings.register(second, m)
        assert waiting.state == "waitlisted"
        erase_account(first)
    db.session.commit()
    states = dict(
        db.session.execute(
            sa.select(Registration.user_id, Registration.state).where(
                Registration.meeting_id == m.id
            )
        ).all()
    )
    assert states == {second.id: "registered"}


def test_an_email_account_deletes_itself_with_its_password(app, client, login_as, make_user, db):
    user = make_user()
    login_as(user)
    page = client.get("/account/delete").get_data(as_text=True)
    assert 'id="password"' in page and 'id="code"' not in page
    r = client.form(
        "/account/delete", page="/account/delete", data={"password": "wrong-one", "confirm": "y"}
    )
    assert r.status_code == 401 and 'id="password-error"' in r.get_data(as_text=True)
    r = client.form("/account/delete", page="/account/delete", data={"confirm": "y"})
    assert r.status_code == 401 and 'id="password-error"' in r.get_data(as_text=True)
    db.session.refresh(user)
    assert user.erased_at is None
    r = client.form(
        "/account/delete", page="/account/delete", data={"password": DEMO_PASSWORD, "confirm": "y"}
    )
    assert r.status_code == 302
    db.session.refresh(user)
    assert user.erased_at is not None and user.email is None


def test_deletion_unlinks_the_wechat_account_and_the_export_tells_it_is_linked(app, db):
    from portal.accounts.models import WechatLinkToken
    from portal.privacy.services import erase_account, export_data

    me = user_by_email("resident2@example.org")
    me.wechat_openid = "oWx-test-openid-0001"
    db.session.add(
        WechatLinkToken(
            token_hash="a" * 64,
            openid="oWx-test-openid-0001",
            expires_at=clock.now() + timedelta(minutes=10),
        )
    )
    db.session.flush()
    with app.test_request_context("/"):
        assert export_data(me)["account"]["wechat_linked"] is True
        erase_account(me)
    db.session.commit()
    assert me.wechat_openid is None
    left = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(WechatLinkToken)
        .where(WechatLinkToken.openid == "oWx-test-openid-0001")
    )
    assert left == 0


def test_the_access_log_page_is_paginated(client, db, login_as, make_user):
    from portal.privacy.services import ACCESS_PAGE

    u = make_user(email="looked.at@example.org")
    db.session.add_all(
        AccessEntry(resident_id=u.id, role="committee", scope_type="community", purpose=p)
        for p in ["residency_queue"] * ACCESS_PAGE + ["moderation"]
    )
    db.session.commit()
    login_as(u)
    first = client.get("/account/access-log").get_data(as_text=True)
    assert first.count('class="card"') == ACCESS_PAGE
    assert 'rel="next"' in first and "page=2" in first
    second = client.get("/account/access-log?page=2").get_data(as_text=True)
    assert second.count('class="card"') == 1 and 'rel="prev"' in second
    past = client.get("/account/access-log?page=99")
    assert past.status_code == 302
    assert past.headers["Location"].endswith("/account/access-log?page=2")
    assert client.get("/account/access-log?page=x").status_code == 200


def test_staff_views_are_logged_one_row_per_resident_in_one_statement(app, db, count_queries):
    """``log_views`` writes a row for each resident shown (once each, never the viewer's own,
    none for an id that names nobody), with the office, purpose and time, in one statement."""
    from portal.audit.access import Office, log_views

    viewer = user_by_email("committee@example.org")
    residents = db.session.scalars(
        sa.select(User).where(User.id != viewer.id).order_by(User.id).limit(3)
    ).all()
    ids = [r.id for r in residents]
    nobody = db.session.scalar(sa.select(sa.func.max(User.id))) + 1000
    office = Office("committee", "community", "110101001001")
    before = clock.now()
    with app.test_request_context("/"), count_queries() as q:
        given = log_views(viewer, [*ids, ids[0], viewer.id, None, nobody], office, "reports")
    after = clock.now()
    assert q.count == 1
    assert given == len(ids) + 1  # the ids asked for, the viewer's own and None left out
    rows = db.session.scalars(
        sa.select(AccessEntry).where(AccessEntry.created_at >= before).order_by(AccessEntry.id)
    ).all()
    assert [
        (r.resident_id, r.viewer_id, r.role, r.scope_type, r.scope_code, r.purpose) for r in rows
    ] == [(i, viewer.id, "committee", "community", "110101001001", "reports") for i in ids]
    assert all(before <= r.created_at <= after for r in rows)
