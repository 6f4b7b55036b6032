"""A hidden proposal's support window waits: the time it was hidden is added back when it is
restored, and the expiry sweep leaves it alone meanwhile."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.core import clock
from portal.proposals import services as proposals
from portal.proposals.models import Proposal, Status


@pytest.fixture
def proposal(make_proposal):
    return make_proposal("open", threshold=50)


def _reload(db, ident):
    row = db.session.get(Proposal, ident)
    db.session.refresh(row)
    return row


def _hide_by_reports(client, api_token, make_user, community, proposal, db):
    for who in [make_user(community=community) for _ in range(3)]:
        r = client.post(
            "/api/v1/reports",
            json={"target_type": "proposal", "target_id": proposal.id, "reason": "spam"},
            headers=api_token(who),
        )
        assert r.status_code == 201
    assert _reload(db, proposal.id).hidden


def _restore(client, api_token, proposal):
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


def test_time_hidden_is_added_to_the_support_window(
    client, api_token, proposal, make_user, community, db
):
    start = clock.now()
    clock.freeze(start)
    closes = proposal.closes_at
    _hide_by_reports(client, api_token, make_user, community, proposal, db)
    clock.freeze(start + timedelta(days=4))
    _restore(client, api_token, proposal)
    p = _reload(db, proposal.id)
    assert p.hidden is False and p.hidden_at is None
    assert p.closes_at == closes + timedelta(days=4)


def test_a_hidden_proposal_does_not_expire_while_hidden(
    app, client, api_token, proposal, make_user, community, db
):
    start = clock.now()
    clock.freeze(start)
    closes = proposal.closes_at
    left = closes - start
    _hide_by_reports(client, api_token, make_user, community, proposal, db)
    # Its window would have closed two days ago.
    clock.freeze(closes + timedelta(days=2))
    result = app.test_cli_runner().invoke(args=["proposals", "sweep"])
    assert result.exit_code == 0, result.output
    p = _reload(db, proposal.id)
    assert p.status == Status.open and proposals.effective_status(p) == Status.open
    # The committee restores it: the window has as long to run as when it was hidden.
    _restore(client, api_token, proposal)
    p = _reload(db, proposal.id)
    assert p.closes_at == clock.now() + left
    r = client.post(f"/api/v1/proposals/{p.id}/support", headers=api_token("resident2"))
    assert r.status_code == 201
    app.test_cli_runner().invoke(args=["proposals", "sweep"])
    assert _reload(db, proposal.id).status == Status.open


def test_hiding_after_the_window_closed_gives_no_extra_time(
    app, client, api_token, proposal, make_user, community, db
):
    closes = proposal.closes_at
    clock.freeze(closes + timedelta(hours=1))
    _hide_by_reports(client, api_token, make_user, community, proposal, db)
    p = _reload(db, proposal.id)
    assert p.hidden and proposals.effective_status(p) == Status.expired
    app.test_cli_runner().invoke(args=["proposals", "sweep"])
    assert _reload(db, proposal.id).status == Status.expired
    clock.freeze(closes + timedelta(days=3))
    _restore(client, api_token, proposal)
    assert _reload(db, proposal.id).closes_at == closes


def test_pause_runs_from_the_first_hide_and_the_page_says_so(
    app, client, api_token, login_as, proposal, make_user, community, db
):
    start = clock.now()
    clock.freeze(start)
    closes = proposal.closes_at
    _hide_by_reports(client, api_token, make_user, community, proposal, db)
    # Two days later the committee confirms the hide; three more days and it restores.
    clock.freeze(start + timedelta(days=2))
    r = client.post(
        "/api/v1/moderation/actions",
        json={
            "action": "hide",
            "target_type": "proposal",
            "target_id": proposal.id,
            "reason_code": "spam",
        },
        headers=api_token("committee"),
    )
    assert r.status_code == 201
    author = app.test_client()
    login_as(proposal.author, author)
    page = author.get(f"/proposals/{proposal.id}", headers={"Accept-Language": "en"})
    html = page.get_data(as_text=True)
    # In the reader's language: the English asked for, or the author's own Chinese.
    assert "Its support window is paused" in html or "附议期已暂停" in html
    clock.freeze(start + timedelta(days=5))
    _restore(client, api_token, proposal)
    assert _reload(db, proposal.id).closes_at == closes + timedelta(days=5)
