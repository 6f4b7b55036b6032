"""The residency page shows what fits its state; a refused decision keeps what was chosen."""

from __future__ import annotations

import re

import sqlalchemy as sa

from portal.residency.models import ResidencyRequest, ResidencyStatus

QUEUE = "/communities/110101001001/residency"


def _ask(client, code="110101001001"):
    return client.form(
        "/residency/request",
        {"join-community_code": code, "join-address_note": "3号楼"},
        page="/residency",
    )


def test_pending_shows_the_wait_and_withdraw_not_the_forms(client, login_as, make_user, db):
    user = make_user()
    login_as(user)
    html = client.get("/residency").get_data(as_text=True)
    assert 'action="/residency/request"' in html and 'action="/residency/invitation"' in html
    assert _ask(client).status_code == 302
    html = client.get("/residency").get_data(as_text=True)
    assert 'action="/residency/request"' not in html
    assert 'action="/residency/invitation"' not in html
    assert 'action="/residency/withdraw"' in html and "3 天" in html
    r = client.form("/residency/withdraw", {}, page="/residency")
    assert r.status_code == 302
    row = db.session.scalar(sa.select(ResidencyRequest).where(ResidencyRequest.user_id == user.id))
    assert row.status == ResidencyStatus.withdrawn and row.decided_at is not None
    html = client.get("/residency").get_data(as_text=True)
    assert 'action="/residency/request"' in html and "status-none" in html


def test_confirmed_is_sent_to_propose_and_moving_stays_folded(client, login_as):
    login_as("resident")
    html = client.get("/residency").get_data(as_text=True)
    assert 'href="/communities/110101001001/proposals/new"' in html
    assert re.search(r'<details class="moving"\s*>', html)  # folded


def test_refused_decision_is_shown_on_its_card(app, login_as, make_user, db):
    applicant = make_user()
    asker = app.test_client()
    login_as(applicant, asker)
    _ask(asker)
    req = db.session.scalar(
        sa.select(ResidencyRequest).where(ResidencyRequest.user_id == applicant.id)
    )
    staff = app.test_client()
    login_as("committee", staff)
    r = staff.form(QUEUE, {"request_id": req.id, "decision": "reject", "reason": ""}, page=QUEUE)
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert f'id="reason-{req.id}-error"' in html
    assert re.search(r'value="reject"\s+checked', html)
