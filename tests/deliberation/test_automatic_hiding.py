"""Automatic hiding: only reports of those who answer for the community count, and the
committee is told at once."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.deliberation.models import Comment, Report
from portal.notifications.models import Notification
from portal.proposals import services as proposals
from portal.proposals.models import Proposal
from tests.conftest import user_by_email


@pytest.fixture
def proposal(make_proposal):
    return make_proposal("open", threshold=50)


def _report(client, api_token, who, target_type, target_id):
    return client.post(
        "/api/v1/reports",
        json={"target_type": target_type, "target_id": target_id, "reason": "spam"},
        headers=api_token(who),
    )


def _reload(db, model, ident):
    row = db.session.get(model, ident)
    db.session.refresh(row)
    return row


def _told_committee(db, target_type, target_id) -> list[int]:
    """Who was told that the target was hidden automatically."""
    return list(
        db.session.scalars(
            sa.select(Notification.user_id).where(
                Notification.type == "content_hidden_automatically",
                Notification.subject_type == {"proposal": "proposals"}.get(target_type, "comments"),
                Notification.subject_id == str(target_id),
            )
        )
    )


def _outsiders(make_user, community_b):
    """Three fresh accounts without residency (one not even with a confirmed email) and three
    confirmed residents of another community."""
    return [
        make_user(confirmed_email=False),
        make_user(),
        make_user(),
        *(make_user(community=community_b) for _ in range(3)),
    ]


def _comment(client, api_token, proposal) -> int:
    r = client.post(
        f"/api/v1/proposals/{proposal.id}/comments",
        json={"body": "加微信领红包", "stance": "for"},
        headers=api_token("resident2"),
    )
    assert r.status_code == 201
    return r.get_json()["id"]


def test_outsiders_reports_wait_for_the_committee_and_hide_nothing(
    client, api_token, proposal, make_user, community_b, db
):
    for who in _outsiders(make_user, community_b):
        assert _report(client, api_token, who, "proposal", proposal.id).status_code == 201
    p = _reload(db, Proposal, proposal.id)
    assert p.hidden is False and p.report_count == 6
    assert _told_committee(db, "proposal", p.id) == []
    # Still supportable by its residents...
    r = client.post(f"/api/v1/proposals/{p.id}/support", headers=api_token("resident2"))
    assert r.status_code == 201
    # ...and every report is in the committee's queue.
    queue = client.get(
        "/api/v1/communities/110101001001/moderation-queue", headers=api_token("committee")
    ).get_json()["items"]
    assert [(i["target_id"], i["reports"]) for i in queue if i["target_type"] == "proposal"] == [
        (p.id, 6)
    ]


def test_three_residents_hide_a_proposal_and_the_committee_is_told(
    client, api_token, proposal, make_user, community, community_b, db
):
    for who in _outsiders(make_user, community_b)[:2]:
        _report(client, api_token, who, "proposal", proposal.id)
    residents = [make_user(community=community) for _ in range(3)]
    for i, who in enumerate(residents):
        assert _report(client, api_token, who, "proposal", proposal.id).status_code == 201
        assert _reload(db, Proposal, proposal.id).hidden is (i == 2), i
    p = _reload(db, Proposal, proposal.id)
    assert p.hidden_auto
    committee = user_by_email("committee@example.org")
    assert _told_committee(db, "proposal", p.id) == [committee.id]
    note = db.session.scalar(
        sa.select(Notification).where(
            Notification.user_id == committee.id,
            Notification.type == "content_hidden_automatically",
        )
    )
    assert note.url == "/communities/110101001001/moderation"
    # Once hidden it refuses supports.
    with pytest.raises(proposals.ProposalError) as refused:
        proposals.support(user_by_email("resident2@example.org"), p)
    assert refused.value.code == "hidden"


def test_staff_reports_count(client, api_token, proposal, db):
    for who in ("committee", "supervisor", "admin"):
        assert _report(client, api_token, who, "proposal", proposal.id).status_code == 201
    assert _reload(db, Proposal, proposal.id).hidden is True


def test_reports_settled_by_the_committee_no_longer_count(
    client, api_token, proposal, make_user, community, db
):
    residents = [make_user(community=community) for _ in range(4)]
    for who in residents[:3]:
        _report(client, api_token, who, "proposal", proposal.id)
    r = client.post(
        "/api/v1/moderation/actions",
        json={
            "action": "restore",
            "target_type": "proposal",
            "target_id": proposal.id,
            "reason_code": "no-violation",
        },
        headers=api_token("committee"),
    )
    assert r.status_code == 201
    # One more report after the committee looked is one report, not the fourth.
    assert _report(client, api_token, residents[3], "proposal", proposal.id).status_code == 201
    assert _reload(db, Proposal, proposal.id).hidden is False


def test_comments_follow_the_same_rule(
    client, api_token, proposal, make_user, community, community_b, db
):
    cid = _comment(client, api_token, proposal)
    for who in _outsiders(make_user, community_b):
        assert _report(client, api_token, who, "comment", cid).status_code == 201
    assert _reload(db, Comment, cid).hidden is False
    assert _told_committee(db, "comment", cid) == []
    assert (
        db.session.scalar(
            sa.select(sa.func.count(Report.id)).where(
                Report.target_type == "comment", Report.target_id == cid
            )
        )
        == 6
    )
    for who in [make_user(community=community) for _ in range(3)]:
        assert _report(client, api_token, who, "comment", cid).status_code == 201
    c = _reload(db, Comment, cid)
    assert c.hidden is True and c.hidden_auto is True
    assert _told_committee(db, "comment", cid) == [user_by_email("committee@example.org").id]
