"""Residency: requests, committee decisions, invitation codes, counts, notifications."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditEntry
from portal.core import clock
from portal.notifications.models import Notification
from portal.residency.models import InvitationCode, ResidencyRequest, ResidencyStatus


def _ask(client, code="110101001001", note="3号楼2单元"):
    return client.form(
        "/residency/request",
        {"join-community_code": code, "join-address_note": note},
        page="/residency",
    )


def _pending(db, user):
    return db.session.scalar(
        sa.select(ResidencyRequest).where(
            ResidencyRequest.user_id == user.id, ResidencyRequest.status == ResidencyStatus.pending
        )
    )


def test_request_approve_confirms_and_counts(client, app, login_as, make_user, community, db):
    user = make_user()
    login_as(user)
    assert _ask(client).status_code == 302
    assert "status-pending" in client.get("/residency").get_data(as_text=True)
    req = _pending(db, user)
    before = community.confirmed_residents
    # The committee was told a request is waiting.
    committee = login_as("committee", app.test_client())
    assert db.session.scalar(
        sa.select(Notification).where(
            Notification.user_id == committee.id, Notification.type == "residency_requested"
        )
    )

    staff = app.test_client()
    login_as("committee", staff)
    queue = staff.get("/communities/110101001001/residency").get_data(as_text=True)
    assert "3号楼2单元" in queue
    assert "&lt;script&gt;" in queue and "<script>alert" not in queue  # the name is escaped
    r = staff.form(
        "/communities/110101001001/residency",
        {"request_id": req.id, "decision": "approve"},
        page="/communities/110101001001/residency",
    )
    assert r.status_code == 302
    db.session.refresh(community)
    db.session.refresh(user)
    assert community.confirmed_residents == before + 1
    assert user.community_id == community.id
    assert "status-confirmed" in client.get("/residency").get_data(as_text=True)
    note = db.session.scalar(sa.select(Notification).where(Notification.user_id == user.id))
    assert note.type == "residency_confirmed"
    # Every staff action is audited, by id, without personal data.
    entry = db.session.scalar(
        sa.select(AuditEntry)
        .where(AuditEntry.action == "residency.approve")
        .order_by(AuditEntry.id.desc())
    )
    assert entry.details["user_id"] == user.id
    assert user.display_name not in str(entry.details) and user.email not in str(entry.details)


def test_reject_needs_a_reason_and_tells_the_person(client, app, login_as, make_user, db):
    user = make_user(locale="en")
    login_as(user)
    _ask(client)
    req = _pending(db, user)
    staff = app.test_client()
    login_as("committee", staff)
    page = "/communities/110101001001/residency"
    staff.form(page, {"request_id": req.id, "decision": "reject", "reason": ""}, page=page)
    db.session.refresh(req)
    assert req.status == ResidencyStatus.pending
    staff.form(
        page,
        {"request_id": req.id, "decision": "reject", "reason": "地址不在本社区 <b>"},
        page=page,
    )
    db.session.refresh(req)
    assert req.status == ResidencyStatus.rejected
    html = client.get("/residency").get_data(as_text=True)
    assert "status-rejected" in html and "地址不在本社区 &lt;b&gt;" in html
    # The notification is in the recipient's language (English here).
    items = client.get("/api/v1/notifications").get_json()["items"]
    assert items[0]["type"] == "residency_rejected"
    assert "was not approved" in items[0]["title"]


def test_committee_of_another_community_cannot_see_or_decide(client, app, login_as, make_user, db):
    user = make_user()
    login_as(user)
    _ask(client)
    req = _pending(db, user)
    other = app.test_client()
    login_as("committee_b", other)
    assert other.get("/communities/110101001001/residency").status_code == 403
    r = other.form(
        "/communities/110101001001/residency",
        {"request_id": req.id, "decision": "approve"},
        page="/",
    )
    assert r.status_code == 403
    resident = app.test_client()
    login_as("resident", resident)
    assert resident.get("/communities/110101001001/residency").status_code == 403
    assert resident.get("/communities/110101001001/invitations").status_code == 403
    db.session.refresh(req)
    assert req.status == ResidencyStatus.pending


def test_one_pending_request_per_person(client, login_as, make_user, db):
    user = make_user()
    login_as(user)
    _ask(client)
    html = _ask(client).get_data(as_text=True)  # the same community again
    assert 'id="join-community_code-error"' in html
    # Asking elsewhere withdraws the first request.
    _ask(client, code="110101001002")
    rows = db.session.scalars(
        sa.select(ResidencyRequest)
        .where(ResidencyRequest.user_id == user.id)
        .order_by(ResidencyRequest.id)
    ).all()
    assert [r.status for r in rows] == [ResidencyStatus.withdrawn, ResidencyStatus.pending]


def test_database_refuses_two_pending_requests(db, make_user, community):
    user = make_user()
    db.session.add(ResidencyRequest(user_id=user.id, community_id=community.id))
    db.session.flush()
    db.session.add(ResidencyRequest(user_id=user.id, community_id=community.id))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_bad_join_input_keeps_what_was_typed(client, login_as, make_user):
    login_as(make_user())
    r = _ask(client, code="999999999999", note="x" * 201)
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert 'id="join-address_note-error"' in html
    assert "x" * 201 in html


def test_moving_to_another_community_keeps_counts_exact(app, login_as, db, community, community_b):
    resident = app.test_client()
    user = login_as("resident", resident)
    a, b = community.confirmed_residents, community_b.confirmed_residents
    _ask(resident, code="110101001002")
    req = _pending(db, user)
    staff = app.test_client()
    login_as("committee_b", staff)
    page = "/communities/110101001002/residency"
    staff.form(page, {"request_id": req.id, "decision": "approve"}, page=page)
    db.session.refresh(community)
    db.session.refresh(community_b)
    assert (community.confirmed_residents, community_b.confirmed_residents) == (a - 1, b + 1)


def test_deciding_twice_is_refused(app, client, login_as, make_user, db):
    user = make_user()
    login_as(user)
    _ask(client)
    req = _pending(db, user)
    headers = {}
    from tests.conftest import user_by_email

    committee = user_by_email("committee@example.org")
    from portal.accounts.services import issue_token

    raw, _t = issue_token(committee, second_factor=True)  # as if with its otp
    db.session.commit()
    headers = {"Authorization": f"Bearer {raw}"}
    url = f"/api/v1/residency-requests/{req.id}/decision"
    assert client.post(url, json={"decision": "approve"}, headers=headers).status_code == 200
    r = client.post(url, json={"decision": "reject", "reason": "x"}, headers=headers)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "already_decided"


def _batch(app, login_as, size=3):
    staff = app.test_client()
    login_as("committee", staff)
    page = "/communities/110101001001/invitations"
    r = staff.form(page, {"size": size, "label": "1-3号楼", "valid_days": 90}, page=page)
    assert r.status_code == 302
    printed = staff.get(r.headers["Location"])
    html = printed.get_data(as_text=True)
    codes = re.findall(r'<p class="code">([A-Z0-9]{5}-[A-Z0-9]{5})</p>', html)
    assert len(codes) == size and html.count("<svg") >= size
    return codes


def test_invitation_code_confirms_at_once(client, app, login_as, make_user, db, community):
    codes = _batch(app, login_as)
    user = make_user()
    login_as(user)
    before = community.confirmed_residents
    r = client.form(
        "/residency/invitation", {"invite-invitation_code": codes[0].lower()}, page="/residency"
    )
    assert r.status_code == 302
    db.session.refresh(user)
    db.session.refresh(community)
    assert user.community_id == community.id
    assert community.confirmed_residents == before + 1
    # A code works once.
    other = app.test_client()
    login_as(make_user(), other)
    html = other.form(
        "/residency/invitation", {"invite-invitation_code": codes[0]}, page="/residency"
    ).get_data(as_text=True)
    assert 'id="invite-invitation_code-error"' in html


def test_invitation_code_errors(client, app, login_as, make_user, db):
    codes = _batch(app, login_as, size=1)
    user = login_as(make_user())
    bad = client.form(
        "/residency/invitation", {"invite-invitation_code": "NOPE1-NOPE2"}, page="/residency"
    )
    assert bad.status_code == 400
    assert 'value="NOPE1-NOPE2"' in bad.get_data(as_text=True)
    clock.freeze(clock.now() + timedelta(days=91))
    login_as(user)  # a fresh session: the old one has long been idle
    expired = client.form(
        "/residency/invitation", {"invite-invitation_code": codes[0]}, page="/residency"
    )
    assert expired.status_code == 400
    code = db.session.scalar(
        sa.select(InvitationCode).where(InvitationCode.code == codes[0].replace("-", ""))
    )
    assert code.used_at is None


def test_qr_link_prefills_the_code(client, login_as, make_user):
    login_as(make_user())
    html = client.get("/residency?code=ABCDE-FGHJK").get_data(as_text=True)
    assert 'value="ABCDE-FGHJK"' in html


def test_invitation_batch_size_is_bounded(app, login_as):
    staff = app.test_client()
    login_as("committee", staff)
    page = "/communities/110101001001/invitations"
    r = staff.form(page, {"size": 501, "valid_days": 90}, page=page)
    assert r.status_code == 400 and 'id="size-error"' in r.get_data(as_text=True)


# --- API ------------------------------------------------------------------------------------


def test_api_residency_flow(client, api_token, make_user, db):
    user = make_user()
    me = api_token(user)
    r = client.post(
        "/api/v1/residency",
        json={"community_code": "110101001001", "address_note": "5号楼"},
        headers=me,
    )
    assert r.status_code == 201 and r.get_json()["status"] == "pending"
    assert client.get("/api/v1/me", headers=me).get_json()["residency"] == {
        "status": "pending",
        "community_code": "110101001001",
    }
    again = client.post("/api/v1/residency", json={"community_code": "110101001001"}, headers=me)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_requested"

    staff = api_token("committee")
    listing = client.get(
        "/api/v1/communities/110101001001/residency-requests?status=pending", headers=staff
    ).get_json()
    item = next(i for i in listing["items"] if i["display_name"] == user.display_name)
    assert item["address_note"] == "5号楼"
    url = f"/api/v1/residency-requests/{item['id']}/decision"
    r = client.post(url, json={"decision": "reject"}, headers=staff)
    assert r.status_code == 400 and "reason" in r.get_json()["error"]["fields"]
    r = client.post(url, json={"decision": "approve"}, headers=staff)
    assert r.status_code == 200 and r.get_json()["status"] == "confirmed"
    assert client.get("/api/v1/me", headers=me).get_json()["residency"]["status"] == "confirmed"


def test_api_residency_requests_are_for_that_committee_only(client, api_token):
    url = "/api/v1/communities/110101001001/residency-requests"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=api_token("committee_b")).status_code == 403
    assert client.get(url, headers=api_token("resident")).status_code == 403
    assert (
        client.get(
            "/api/v1/communities/000000000000/residency-requests", headers=api_token("committee")
        ).status_code
        == 404
    )
    r = client.get(url + "?status=bogus", headers=api_token("committee"))
    assert r.status_code == 400


def test_api_decision_visibility(client, api_token, make_user, db, community):
    user = make_user()
    req = ResidencyRequest(user_id=user.id, community_id=community.id)
    db.session.add(req)
    db.session.commit()
    url = f"/api/v1/residency-requests/{req.id}/decision"
    # Neither a resident nor another community's committee may know the request exists.
    assert (
        client.post(url, json={"decision": "approve"}, headers=api_token("resident")).status_code
        == 404
    )
    assert (
        client.post(url, json={"decision": "approve"}, headers=api_token("committee_b")).status_code
        == 404
    )
    assert (
        client.post(
            "/api/v1/residency-requests/999999/decision",
            json={"decision": "approve"},
            headers=api_token("committee"),
        ).status_code
        == 404
    )
    r = client.post(url, json={"decision": "maybe"}, headers=api_token("committee"))
    assert r.status_code == 400


def test_api_invitation_code(client, app, login_as, make_user, api_token):
    codes = _batch(app, login_as, size=2)
    me = api_token(make_user())
    r = client.post("/api/v1/residency", json={"invitation_code": codes[0]}, headers=me)
    assert r.status_code == 201 and r.get_json()["status"] == "confirmed"
    r = client.post(
        "/api/v1/residency", json={"invitation_code": codes[0]}, headers=api_token(make_user())
    )
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "already_used"
    r = client.post("/api/v1/residency", json={"invitation_code": "ZZZZZ-ZZZZZ"}, headers=me)
    assert r.status_code == 400 and "invitation_code" in r.get_json()["error"]["fields"]


def test_api_residency_bad_input(client, api_token, make_user):
    me = api_token(make_user())
    for payload in (
        {},
        {"community_code": 12},
        {"community_code": "999999999999"},
        {"community_code": "110101001001", "address_note": "x" * 201},
    ):
        r = client.post("/api/v1/residency", json=payload, headers=me)
        assert r.status_code == 400, payload
    r = client.post(
        "/api/v1/residency", data="not json", headers=me, content_type="application/json"
    )
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid_json"


def test_a_city_of_communities_is_searched_not_listed(client, login_as, make_user, db, community):
    from portal.residency import views

    views_limit = views.LIST_ALL_UNDER
    try:
        views.LIST_ALL_UNDER = 2  # the demo's few communities stand in for a city's thousand
        user = make_user()
        login_as(user)
        html = client.get("/residency").get_data(as_text=True)
        assert 'name="find"' in html and 'value="110101001001"' not in html
        by_name = client.get(f"/residency?find={community.name_zh}").get_data(as_text=True)
        assert 'value="110101001001"' in by_name
        by_code = client.get("/residency?find=1101010010").get_data(as_text=True)
        assert 'value="110101001001"' in by_code and 'value="110101001002"' in by_code
        literal = client.get("/residency?find=%25").get_data(as_text=True)  # % is not a wildcard
        assert 'value="110101001001"' not in literal and "没有与" in literal
        # The chosen community validates even though the plain page lists none.
        assert _ask(client).status_code == 302
        assert _pending(db, user).community_id == community.id
    finally:
        views.LIST_ALL_UNDER = views_limit


# --- who decides: never the person asking ----------------------------------------------------


def _supervisor_elsewhere(db, make_user):
    """A supervisor of district 110102, which holds none of the demo communities."""
    from portal.places.models import District
    from portal.roles.models import Role
    from portal.roles.services import grant

    dongcheng = db.session.scalar(sa.select(District).where(District.code == "110101"))
    db.session.add(
        District(code="110102", name_zh="西城区", name_en="Xicheng", city_id=dongcheng.city_id)
    )
    db.session.flush()
    user = make_user()
    grant(None, user, Role.supervisor, "110102")
    db.session.commit()
    return user


def _committee_asks(client, login_as, db, who="committee_b", code="110101001002"):
    """A committee member asks to become a resident of the community they serve."""
    member = login_as(who, client)
    assert _ask(client, code=code).status_code == 302
    return member, _pending(db, member)


def test_a_committee_member_cannot_decide_their_own_request(app, client, login_as, api_token, db):
    member, req = _committee_asks(client, login_as, db)
    page = "/communities/110101001002/residency"
    html = client.get(page).get_data(as_text=True)
    assert "This is your own request" in html or "这是您本人的申请" in html
    assert f'name="request_id" value="{req.id}"' not in html
    r = client.form(page, {"request_id": req.id, "decision": "approve"}, page=page)
    assert r.status_code == 403
    assert "cannot decide your own" in r.get_data(as_text=True) or "不能决定" in r.get_data(
        as_text=True
    )
    r = client.post(
        f"/api/v1/residency-requests/{req.id}/decision",
        json={"decision": "approve"},
        headers=api_token(member),
    )
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "own_request"
    db.session.refresh(req)
    db.session.refresh(member)
    assert req.status == ResidencyStatus.pending and member.community_id is None


def test_another_committee_member_decides_it(app, client, login_as, api_token, make_user, db):
    from portal.roles.models import Role
    from portal.roles.services import grant

    asker = make_user()
    grant(None, asker, Role.committee, "110101001001")
    db.session.commit()
    _member, req = _committee_asks(client, login_as, db, who=asker, code="110101001001")
    # Another member of the committee exists, so the supervisor is not the one to decide.
    url = f"/api/v1/residency-requests/{req.id}/decision"
    r = client.post(url, json={"decision": "approve"}, headers=api_token("supervisor"))
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "forbidden"
    supervisor = app.test_client()
    login_as("supervisor", supervisor)
    queue = supervisor.get("/communities/110101001001/residency")
    assert queue.status_code == 200 and f'value="{req.id}"' not in queue.get_data(as_text=True)
    r = client.post(url, json={"decision": "approve"}, headers=api_token("committee"))
    assert r.status_code == 200 and r.get_json()["status"] == "confirmed"
    db.session.refresh(asker)
    assert asker.community_id == db.session.get(ResidencyRequest, req.id).community_id


def test_the_district_supervisor_decides_where_no_other_member_exists(
    app, client, login_as, api_token, make_user, db
):
    member, req = _committee_asks(client, login_as, db)
    # The supervisor is told, and finds it from the supervision desk.
    supervisor = app.test_client()
    boss = login_as("supervisor", supervisor)
    assert db.session.scalar(
        sa.select(Notification).where(
            Notification.user_id == boss.id, Notification.type == "residency_requested"
        )
    )
    desk = supervisor.get("/workspace/supervisor/110101").get_data(as_text=True)
    assert 'href="/communities/110101001002/residency"' in desk
    page = "/communities/110101001002/residency"
    queue = supervisor.get(page).get_data(as_text=True)
    assert f'name="request_id" value="{req.id}"' in queue
    assert "Invitation codes" not in queue and "邀请码" not in queue
    viewed = db.session.scalar(
        sa.select(AuditEntry)
        .where(AuditEntry.action == "residency.view_requests", AuditEntry.actor_id == boss.id)
        .order_by(AuditEntry.id.desc())
    )
    assert viewed is not None and viewed.details["user_ids"] == [member.id]
    listed = client.get(
        "/api/v1/communities/110101001002/residency-requests", headers=api_token("supervisor")
    ).get_json()["items"]
    assert [i["id"] for i in listed] == [req.id]
    # A supervisor of another district may not.
    stranger = _supervisor_elsewhere(db, make_user)
    other = app.test_client()
    login_as(stranger, other)
    assert other.get(page).status_code == 403
    r = other.form(page, {"request_id": req.id, "decision": "approve"}, page="/")
    assert r.status_code == 403
    url = f"/api/v1/residency-requests/{req.id}/decision"
    r = client.post(url, json={"decision": "approve"}, headers=api_token(stranger))
    assert r.status_code == 404  # nor learn that it exists
    # The district's supervisor does, on the page.
    r = supervisor.form(page, {"request_id": req.id, "decision": "approve"}, page=page)
    assert r.status_code == 302
    db.session.refresh(req)
    db.session.refresh(member)
    assert req.status == ResidencyStatus.confirmed and req.decided_by_id == boss.id
    assert member.community_id == req.community_id
    entry = db.session.scalar(
        sa.select(AuditEntry)
        .where(AuditEntry.action == "residency.approve")
        .order_by(AuditEntry.id.desc())
    )
    assert entry.details["role"] == "supervisor"
    desk = supervisor.get("/workspace/supervisor/110101").get_data(as_text=True)
    assert 'href="/communities/110101001002/residency"' not in desk


def test_the_supervisor_decides_through_the_api_too(client, login_as, api_token, db):
    _member, req = _committee_asks(client, login_as, db)
    r = client.post(
        f"/api/v1/residency-requests/{req.id}/decision",
        json={"decision": "reject", "reason": "不住在本社区"},
        headers=api_token("supervisor"),
    )
    assert r.status_code == 200 and r.get_json()["status"] == "rejected"


def test_a_committee_member_cannot_confirm_themselves_with_a_code(
    client, app, login_as, api_token, db
):
    codes = _batch(app, login_as, size=2)
    member = login_as("committee")
    r = client.form(
        "/residency/invitation", {"invite-invitation_code": codes[0]}, page="/residency"
    )
    assert r.status_code == 400 and 'id="invite-invitation_code-error"' in r.get_data(as_text=True)
    r = client.post(
        "/api/v1/residency", json={"invitation_code": codes[1]}, headers=api_token(member)
    )
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "committee_member"
    db.session.refresh(member)
    assert member.community_id is None
    unused = db.session.scalars(
        sa.select(InvitationCode.used_at).where(
            InvitationCode.code.in_([c.replace("-", "") for c in codes])
        )
    ).all()
    assert unused == [None, None]
