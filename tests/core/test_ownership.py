"""Ownership (IDOR) checks: for each kind of object, another person — a resident of the same
community, or staff of another community or agency — reaches it by id through the web and the
API and is refused, the object stays as it was, and its owner can act on it."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from PIL import Image

from portal.extensions import db as _db
from tests.conftest import user_by_email


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 200)).save(out, "JPEG")
    return out.getvalue()


@pytest.fixture
def mine(app, db, make_proposal, make_user, community, monkeypatch, tmp_path):
    """resident1's objects in community A; resident2 is a neighbour in the same community."""
    from portal.deliberation import services as delib
    from portal.notifications.models import Notification
    from portal.proposals import services as proposals
    from portal.proposals.models import ProposalPhoto
    from portal.residency import services as residency

    monkeypatch.setitem(app.config, "MEDIA_ROOT", str(tmp_path))
    owner = user_by_email("resident1@example.org")
    committee = user_by_email("committee@example.org")
    with app.test_request_context("/"):
        draft = make_proposal("draft", title="我的草稿")
        proposals.add_photos(owner, draft, [jpeg()])
        open_p = make_proposal("open")
        comment = delib.add_comment(owner, open_p, "原来的意见", "for")
        hidden = delib.add_comment(owner, open_p, "被隐藏的意见", "against")
        action = delib.moderate(committee, "hide", "comment", hidden.id, reason_code="spam")
        request = residency.request_residency(make_user(), community, "3号楼")
        batch = residency.create_batch(committee, community, 1, "一号楼", 30)
        db.session.commit()
    photo = db.session.scalar(
        sa.select(ProposalPhoto.id).where(ProposalPhoto.proposal_id == draft.id)
    )
    note = db.session.scalar(
        sa.select(Notification.id).where(
            Notification.user_id == owner.id, Notification.read_at.is_(None)
        )
    )
    assert note is not None
    return {
        "draft": draft.id,
        "photo": photo,
        "open": open_p.id,
        "comment": comment.id,
        "action": action.id,
        "request": request.id,
        "batch": batch.id,
        "note": note,
    }


def signed_in(app, login_as, who):
    client = app.test_client()
    login_as(who, client)
    return client


def fresh(model, id_):
    _db.session.expire_all()
    return _db.session.get(model, id_)


def test_a_draft_and_its_photos_are_the_authors_alone(app, login_as, api_token, mine):
    from portal.proposals.models import Proposal, ProposalPhoto

    draft, photo = mine["draft"], mine["photo"]
    neighbour = signed_in(app, login_as, "resident2")
    token = neighbour.csrf_token("/")
    headers = api_token("resident2")
    for url in (
        f"/proposals/{draft}",
        f"/proposals/{draft}/edit",
        f"/proposals/{draft}/photos/{photo}",
    ):
        assert neighbour.get(url).status_code == 404, url
    assert neighbour.get(f"/api/v1/proposals/{draft}", headers=headers).status_code == 404
    assert (
        neighbour.patch(
            f"/api/v1/proposals/{draft}", json={"title": "别人改的"}, headers=headers
        ).status_code
        == 404
    )
    assert (
        neighbour.post(f"/api/v1/proposals/{draft}/submit", json={}, headers=headers).status_code
        == 404
    )
    for url in (f"/proposals/{draft}/edit", f"/proposals/{draft}/submit"):
        r = neighbour.post(url, data={"csrf_token": token, "title": "别人改的"})
        assert r.status_code == 404, url
    r = neighbour.post(f"/proposals/{draft}/photos/{photo}/delete", data={"csrf_token": token})
    assert r.status_code in (403, 404)
    assert fresh(Proposal, draft).title == "我的草稿"
    assert fresh(Proposal, draft).status.value == "draft"
    assert fresh(ProposalPhoto, photo) is not None

    owner = signed_in(app, login_as, "resident")
    with owner.get(f"/proposals/{draft}/photos/{photo}") as served:
        assert served.status_code == 200
    r = owner.patch(
        f"/api/v1/proposals/{draft}", json={"title": "我改的草稿"}, headers=api_token("resident")
    )
    assert r.status_code == 200
    assert fresh(Proposal, draft).title == "我改的草稿"


def test_only_the_author_withdraws_a_proposal(app, login_as, api_token, mine):
    from portal.proposals.models import Proposal

    p = mine["open"]
    neighbour = signed_in(app, login_as, "resident2")
    r = neighbour.post(
        f"/proposals/{p}/withdraw",
        data={"csrf_token": neighbour.csrf_token("/"), "reason": "不想要了"},
    )
    assert r.status_code == 403
    r = neighbour.post(
        f"/api/v1/proposals/{p}/withdraw",
        json={"reason": "不想要了"},
        headers=api_token("resident2"),
    )
    assert r.status_code == 403
    assert fresh(Proposal, p).status.value == "open"
    r = signed_in(app, login_as, "resident").post(
        f"/api/v1/proposals/{p}/withdraw", json={"reason": "已解决"}, headers=api_token("resident")
    )
    assert r.status_code == 200
    assert fresh(Proposal, p).status.value == "withdrawn"


@pytest.mark.parametrize("who", ["resident2", "committee", "committee_b"])
def test_only_the_author_edits_or_deletes_a_comment(app, login_as, api_token, mine, who):
    from portal.deliberation.models import Comment

    c = mine["comment"]
    other = signed_in(app, login_as, who)
    token, headers = other.csrf_token("/"), api_token(who)
    assert other.get(f"/comments/{c}/edit").status_code == 403
    for url, data in ((f"/comments/{c}/edit", {"body": "改掉"}), (f"/comments/{c}/delete", {})):
        assert other.post(url, data={"csrf_token": token, **data}).status_code == 403, url
    assert (
        other.patch(f"/api/v1/comments/{c}", json={"body": "改掉"}, headers=headers).status_code
        == 403
    )
    assert other.delete(f"/api/v1/comments/{c}", headers=headers).status_code == 403
    row = fresh(Comment, c)
    assert row.body == "原来的意见"
    assert row.deleted_at is None
    r = signed_in(app, login_as, "resident").patch(
        f"/api/v1/comments/{c}", json={"body": "我改的意见"}, headers=api_token("resident")
    )
    assert r.status_code == 200
    assert fresh(Comment, c).body == "我改的意见"


def test_only_the_person_moderated_appeals(app, login_as, api_token, mine):
    from portal.deliberation.models import Appeal

    neighbour = signed_in(app, login_as, "resident2")
    r = neighbour.post(
        "/api/v1/appeals",
        json={"action_id": mine["action"], "note": "替他申诉"},
        headers=api_token("resident2"),
    )
    assert r.status_code == 403
    r = neighbour.post(
        "/appeals",
        data={"csrf_token": neighbour.csrf_token("/"), "action_id": mine["action"], "note": "x"},
    )
    assert r.status_code == 403
    assert _db.session.scalar(sa.select(sa.func.count(Appeal.id))) == 0
    r = signed_in(app, login_as, "resident").post(
        "/api/v1/appeals",
        json={"action_id": mine["action"], "note": "我没有发广告"},
        headers=api_token("resident"),
    )
    assert r.status_code == 201


def test_notifications_are_read_and_marked_by_their_owner_only(app, login_as, api_token, mine):
    from portal.notifications.models import Notification

    n = mine["note"]
    neighbour = signed_in(app, login_as, "resident2")
    headers = api_token("resident2")
    r = neighbour.post(f"/notifications/{n}/open", data={"csrf_token": neighbour.csrf_token("/")})
    assert r.status_code == 404
    r = neighbour.post("/api/v1/notifications/read", json={"ids": [n]}, headers=headers)
    assert r.status_code == 200
    assert r.get_json()["marked"] == 0
    listed = neighbour.get("/api/v1/notifications", headers=headers).get_json()["items"]
    assert n not in {item["id"] for item in listed}
    assert fresh(Notification, n).read_at is None

    owner = signed_in(app, login_as, "resident")
    listed = owner.get("/api/v1/notifications", headers=api_token("resident")).get_json()["items"]
    assert n in {item["id"] for item in listed}
    r = owner.post(f"/notifications/{n}/open", data={"csrf_token": owner.csrf_token("/")})
    assert r.status_code == 302
    assert fresh(Notification, n).read_at is not None


def test_tokens_and_sessions_are_revoked_by_their_owner_only(app, login_as, api_token):
    mine = api_token("resident")
    owner = signed_in(app, login_as, "resident")
    neighbour = signed_in(app, login_as, "resident2")
    theirs = api_token("resident2")
    assert neighbour.delete("/api/v1/auth/token", headers=theirs).status_code == 204
    r = neighbour.post(
        "/account/sign-out-everywhere", data={"csrf_token": neighbour.csrf_token("/")}
    )
    assert r.status_code in (302, 303)
    assert app.test_client().get("/api/v1/me", headers=mine).status_code == 200
    assert owner.get("/account").status_code == 200
    assert app.test_client().get("/api/v1/me", headers=theirs).status_code == 401


def test_profile_data_stays_with_its_owner(app, login_as, api_token, mine):
    owner = user_by_email("resident1@example.org")
    neighbour = signed_in(app, login_as, "resident2")
    headers = api_token("resident2")
    me = neighbour.get("/api/v1/me", headers=headers).get_json()
    assert me["id"] != owner.id
    pages = [
        neighbour.get("/account").get_data(as_text=True),
        neighbour.get(f"/proposals/{mine['open']}").get_data(as_text=True),
        neighbour.get(f"/api/v1/proposals/{mine['open']}", headers=headers).get_data(as_text=True),
        neighbour.get(f"/api/v1/proposals/{mine['open']}/comments").get_data(as_text=True),
    ]
    for page in pages:
        assert owner.email not in page


def test_staff_of_community_b_cannot_reach_a_s_objects_through_b_s_address(
    app, login_as, api_token, mine, community_b
):
    """The object's id with the path of the community the staff member does run."""
    from portal.residency.models import ResidencyRequest

    other = signed_in(app, login_as, "committee_b")
    token = other.csrf_token("/")
    b = community_b.code
    r = other.post(
        f"/communities/{b}/residency",
        data={"csrf_token": token, "request_id": str(mine["request"]), "decision": "approve"},
    )
    assert r.status_code == 404
    assert other.get(f"/communities/{b}/invitations/{mine['batch']}").status_code == 404
    r = other.post(
        f"/api/v1/residency-requests/{mine['request']}/decision",
        json={"decision": "approve"},
        headers=api_token("committee_b"),
    )
    assert r.status_code == 404  # as on the page: B's staff learn nothing of A's requests
    assert fresh(ResidencyRequest, mine["request"]).status.value == "pending"


def test_case_steps_belong_to_the_routed_agency_and_feedback_to_supporters(
    app, login_as, api_token, make_case, make_user, community
):
    from portal.cases.models import Case

    case = make_case("verifying")
    number, state = case.number, case.state
    other = signed_in(app, login_as, "liaison.culture-sports-bureau@example.org")
    assert case.agency.code != "culture-sports-bureau"
    r = other.post(
        f"/cases/{number}/actions",
        data={"csrf_token": other.csrf_token("/"), "act-action": "close", "act-note": "x"},
    )
    assert r.status_code == 403
    r = other.post(
        f"/api/v1/cases/{number}/actions",
        json={"action": "close", "note": "x", "reason_code": "no-further-action"},
        headers=api_token("liaison.culture-sports-bureau@example.org"),
    )
    assert r.status_code == 403
    assert fresh(Case, case.id).state == state
    stranger = make_user(community=community)  # a neighbour who did not support it
    r = app.test_client().post(
        f"/api/v1/cases/{number}/feedback",
        json={"solved": False, "satisfaction": 1},
        headers=api_token(stranger),
    )
    assert r.status_code == 403
    r = app.test_client().post(
        f"/api/v1/cases/{number}/feedback",
        json={"solved": True, "satisfaction": 5},
        headers=api_token("resident2"),
    )
    assert r.status_code == 201
