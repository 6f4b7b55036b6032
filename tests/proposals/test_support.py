"""Support (附议): one per resident, secret, threshold reached exactly once, withdrawal rules."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.core import clock
from portal.proposals import services
from portal.proposals.models import ProposalEvent, Status, Support
from tests.conftest import DEMO, user_by_email


def test_support_moves_the_progress_bar(app, login_as, make_proposal, db):
    p = make_proposal("open", threshold=3)
    client = app.test_client()
    login_as("resident2", client)
    page = client.get(f"/proposals/{p.id}").get_data(as_text=True)
    assert 'value="1" max="3"' in page
    r = client.form(f"/proposals/{p.id}/support", page=f"/proposals/{p.id}")
    assert r.status_code == 302
    page = client.get(f"/proposals/{p.id}").get_data(as_text=True)
    assert 'value="2" max="3"' in page and "support-box" in page
    # Again: refused, nothing counted twice.
    client.form(f"/proposals/{p.id}/support", page=f"/proposals/{p.id}")
    db.session.refresh(p)
    assert p.support_count == 2


def test_api_support_rules(client, api_token, make_proposal, db):
    p = make_proposal("open", threshold=3)
    url = f"/api/v1/proposals/{p.id}/support"
    r = client.post(url, headers=api_token("resident2"))
    assert r.status_code == 201 and r.get_json() == {"support_count": 2, "status": "open"}
    r = client.post(url, headers=api_token("resident2"))
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "already_supported"
    r = client.post(url, headers=api_token("resident_b"))
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "not_a_resident"
    assert client.post(url).status_code == 401
    detail = client.get(f"/api/v1/proposals/{p.id}", headers=api_token("resident2")).get_json()
    assert detail["supported_by_me"] is True and detail["support_count"] == 2
    assert (
        client.get(
            f"/api/v1/proposals/{p.id}", headers=api_token("resident3@example.org")
        ).get_json()["supported_by_me"]
        is False
    )


def test_not_open_proposals_refuse_support(client, api_token, make_proposal):
    for status in ("expired", "rejected", "withdrawn"):
        p = make_proposal(status)
        r = client.post(f"/api/v1/proposals/{p.id}/support", headers=api_token("resident2"))
        assert r.status_code == 409 and r.get_json()["error"]["code"] == "not_open", status
    hidden = make_proposal("submitted")
    r = client.post(f"/api/v1/proposals/{hidden.id}/support", headers=api_token("resident2"))
    assert r.status_code == 404


def test_crossing_the_threshold_qualifies_once_and_calls_the_hook(app, make_proposal, db):
    from portal.proposals.signals import proposal_qualified

    calls = []

    def receiver(p, **_extra):
        calls.append(p.id)

    proposal_qualified.connect(receiver)
    try:
        p = make_proposal("open", threshold=3)
        with app.test_request_context("/"):
            services.support(user_by_email("resident2@example.org"), p)
            assert p.status == Status.open
            services.support(user_by_email("resident3@example.org"), p)
            assert p.status == Status.qualified and p.threshold_reached_at is not None
            services.support(user_by_email("resident4@example.org"), p)  # still allowed
        db.session.commit()
    finally:
        proposal_qualified.disconnect(receiver)
    assert calls == [p.id]
    assert p.support_count == 4
    events = db.session.scalars(
        sa.select(ProposalEvent.to_status).where(ProposalEvent.proposal_id == p.id)
    ).all()
    assert events.count("qualified") == 1


def test_withdrawing_support(client, api_token, make_proposal, db):
    p = make_proposal("open", threshold=5)
    url = f"/api/v1/proposals/{p.id}/support"
    me = api_token("resident2")
    client.post(url, headers=me)
    r = client.delete(url, headers=me)
    assert r.status_code == 200 and r.get_json()["support_count"] == 1
    r = client.delete(url, headers=me)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "not_supported"
    r = client.delete(url, headers=api_token("resident"))  # the author's support stays
    assert r.status_code == 409


def test_supports_are_final_after_the_threshold(client, api_token, make_proposal):
    p = make_proposal("qualified")
    r = client.delete(f"/api/v1/proposals/{p.id}/support", headers=api_token("resident2"))
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "support_final"


def test_my_supports_page_lists_only_mine(app, login_as, make_proposal, db):
    p = make_proposal("qualified")
    client = app.test_client()
    login_as("resident2", client)
    assert p.title[:4] in client.get("/account/supports").get_data(as_text=True)
    login_as("resident3@example.org", client)
    assert p.title[:4] not in client.get("/account/supports").get_data(as_text=True)


def test_support_is_rate_limited(client, api_token, make_proposal, app):
    p = make_proposal("open", threshold=50)
    app.config["SUPPORT_LIMIT"] = "2 per minute"
    try:
        me = api_token("resident2")
        codes = [
            client.post(f"/api/v1/proposals/{p.id}/support", headers=me).status_code
            for _ in range(3)
        ]
    finally:
        app.config["SUPPORT_LIMIT"] = "30 per minute;300 per hour"
    assert codes == [201, 409, 429]


def test_count_matches_rows(make_proposal, db):
    p = make_proposal("qualified")
    rows = db.session.scalar(
        sa.select(sa.func.count(Support.id)).where(Support.proposal_id == p.id)
    )
    assert rows == p.support_count == 2


def test_api_support_checks_the_token_in_its_own_statement(
    app, client, api_token, make_proposal, db
):
    """The token, the resident and the support are one statement on PostgreSQL; the
    per-person rate limit learns whose token it is once per process. Every token the usual
    sign-in refuses is refused here too, and every other refusal is the usual path's."""
    from datetime import timedelta

    from portal.accounts.models import ApiToken, User
    from portal.accounts.services import issue_token
    from portal.roles.models import Role, RoleGrant
    from portal.roles.services import grant

    p = make_proposal("open", threshold=4)
    url = f"/api/v1/proposals/{p.id}/support"
    me = api_token("resident2")

    def token_reads(path):
        seen: list[str] = []
        listen = lambda _c, _cur, statement, *_a: seen.append(statement)  # noqa: E731
        sa.event.listen(db.engine, "before_cursor_execute", listen)
        try:
            r = client.post(path, headers=me)
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", listen)
        assert r.status_code == 201, r.get_json()
        return r, [s for s in seen if "api_tokens" in s]

    # The first time: whose token, for the rate limit's key; then the support, in one.
    r, reads = token_reads(url)
    assert r.get_json() == {"support_count": 2, "status": "open"}
    assert r.headers["Cache-Control"] == "no-store"
    if db.engine.dialect.name == "postgresql":
        assert len(reads) == 2 and "INSERT INTO supports" in reads[1]
        # The same token again, on another proposal: the support's statement alone.
        _r, reads = token_reads(f"/api/v1/proposals/{make_proposal('open').id}/support")
        assert len(reads) == 1 and "INSERT INTO supports" in reads[0]
    r = client.post(url, headers=me)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "already_supported"
    r = client.post(url, headers=api_token("resident_b"))
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "not_a_resident"

    # Tokens that must not sign anyone in: unknown, revoked, expired, and issued before
    # their user signed out everywhere.
    def refused(headers):
        r = client.post(url, headers=headers)
        return r.status_code == 401 and r.get_json()["error"]["code"] == "invalid_token"

    assert refused({"Authorization": "Bearer not-a-token"})
    third = user_by_email("resident3@example.org")
    for change in ("revoked", "expired"):
        headers = api_token(third)
        token = db.session.scalars(
            sa.select(ApiToken).where(ApiToken.user_id == third.id).order_by(ApiToken.id.desc())
        ).first()
        if change == "revoked":
            token.revoked_at = clock.now()
        else:
            token.expires_at = clock.now() - timedelta(seconds=1)
        db.session.commit()
        assert refused(headers), change
    # Signed out everywhere: the version check alone (sign_out_everywhere also revokes).
    headers = api_token(third)
    db.session.execute(
        sa.update(User).where(User.id == third.id).values(session_version=User.session_version + 1)
    )
    db.session.commit()
    assert refused(headers)
    # A staff account's token issued without the second factor (before the role, say) signs
    # nobody in, in the one statement as in the usual sign-in.
    with app.test_request_context("/"):
        raw, _token = issue_token(third)  # as a resident: no second factor
        grant(None, third, Role.committee, "110101001001")
    db.session.commit()
    r = client.post(url, headers={"Authorization": f"Bearer {raw}"})
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "otp_required"
    db.session.execute(sa.delete(RoleGrant).where(RoleGrant.user_id == third.id))
    db.session.commit()
    db.session.refresh(p)
    assert p.support_count == 2

    # Valid tokens again: the support that reaches the threshold qualifies the proposal.
    r = client.post(url, headers=api_token(third))
    assert r.status_code == 201 and r.get_json()["support_count"] == 3
    r = client.post(url, headers=api_token("resident4@example.org"))
    assert r.status_code == 201
    assert r.get_json() == {"support_count": 4, "status": "qualified"}
    db.session.refresh(p)
    assert p.status == Status.qualified and p.threshold_reached_at is not None


def test_a_dead_token_does_not_spend_its_owners_support_limit(
    client, api_token, make_proposal, app, db
):
    """The per-person limit learns whose token it is before the support's statement checks
    it: a revoked token counts per address, and one revoked after the limit learnt it (kept in
    the app's cache, where there is one) counts for its owner once, then is forgotten. A
    leaked and revoked token cannot lock its owner out."""
    from portal.accounts.models import ApiToken
    from portal.extensions import limiter

    limiter.reset()
    owner = user_by_email("resident5@example.org")
    leaked = api_token(owner)
    p, q = make_proposal("open", threshold=50), make_proposal("open", threshold=50)
    app.config["SUPPORT_LIMIT"] = "3 per minute"
    try:
        assert client.post(f"/api/v1/proposals/{p.id}/support", headers=leaked).status_code == 201
        db.session.execute(
            sa.update(ApiToken).where(ApiToken.user_id == owner.id).values(revoked_at=clock.now())
        )
        db.session.commit()
        codes = [
            client.post(f"/api/v1/proposals/{q.id}/support", headers=leaked).status_code
            for _ in range(3)
        ]
        assert codes == [401] * 3
        # The owner has spent two of three at most: the support, and the first refused request
        # when the app's cache still knew whose the token was.
        r = client.post(f"/api/v1/proposals/{q.id}/support", headers=api_token(owner))
        assert r.status_code == 201
    finally:
        app.config["SUPPORT_LIMIT"] = "30 per minute;300 per hour"
        limiter.reset()


def test_every_refusal_is_the_same_by_token_by_orm_and_on_the_page(
    app, api_token, make_proposal, db
):
    """The one-statement support (token or resident), the ORM path and the page's "can
    support" (``support_standing``) are built from one rule (``services.may_support``), and
    the token's check from one predicate (``auth.valid_token``): each refusal refuses on
    every path, with the ORM path's reason, and a support every path allows is stored by
    each of them."""
    from datetime import timedelta

    from portal.accounts.auth import hash_token, token_user_id
    from portal.accounts.models import ApiToken, User
    from portal.deliberation.models import Block
    from portal.proposals.services import ProposalError

    pg = db.engine.dialect.name == "postgresql"
    now = clock.now()

    def token_of(headers) -> str:
        return hash_token(headers["Authorization"].split(" ", 1)[1])

    def paths(who, p, headers, expected: str | None):
        user = user_by_email(DEMO.get(who, who)) if isinstance(who, str) else who
        with app.test_request_context("/", method="POST"):
            db.session.refresh(p)
            standing = services.support_standing(user, p)
            assert standing.can is (expected is None), expected
            by_token = services.support_by_token(token_of(headers), p.id)
            at_once = services.support_at_once(user, p.id)
            if expected is None:
                # Allowed: the token's statement stores it (PostgreSQL), the others then say it
                # is done; on SQLite the ORM path stores it.
                assert (by_token is not None) is pg and at_once is None
                if pg:
                    with pytest.raises(ProposalError) as refused:
                        services.support(user, p)
                    assert refused.value.code == "already_supported"
                else:
                    services.support(user, p)
                db.session.commit()
                return
            assert by_token is None and at_once is None, expected
            with pytest.raises(ProposalError) as refused:
                services.support(user, p)
            assert refused.value.code == expected
            # The page tells a resident of the community the support's own refusal.
            if user.community_id == p.community_id:
                assert standing.refusal == refused.value.message
            else:
                assert standing.refusal is None
            db.session.rollback()

    # Another community's resident, a closed window, a hidden proposal, a blocked resident.
    p = make_proposal("open", threshold=50)
    paths("resident_b", p, api_token("resident_b"), "not_a_resident")
    closed = make_proposal("open", threshold=50)
    closed.closes_at = now - timedelta(seconds=1)
    hidden = make_proposal("open", threshold=50)
    hidden.hidden, hidden.hidden_at = True, now
    db.session.commit()
    paths("resident2", closed, api_token("resident2"), "not_open")
    paths("resident2", hidden, api_token("resident2"), "hidden")
    blocked = user_by_email("resident3@example.org")
    db.session.add(
        Block(community_id=p.community_id, user_id=blocked.id, reason="测试", until=None)
    )
    db.session.commit()
    paths(blocked, p, api_token(blocked), "blocked")
    paths("resident2", p, api_token("resident2"), None)

    # Tokens that sign no one in, the same for the sign-in and the support's statement.
    fourth = user_by_email("resident4@example.org")
    for change in ("revoked", "expired", "signed_out"):
        headers = api_token(fourth)
        token = db.session.scalars(
            sa.select(ApiToken).where(ApiToken.user_id == fourth.id).order_by(ApiToken.id.desc())
        ).first()
        if change == "revoked":
            token.revoked_at = now
        elif change == "expired":
            token.expires_at = now - timedelta(seconds=1)
        else:
            db.session.execute(
                sa.update(User)
                .where(User.id == fourth.id)
                .values(session_version=User.session_version + 1)
            )
        db.session.commit()
        with app.test_request_context("/", method="POST"):
            assert token_user_id(token_of(headers)) is None, change
            assert services.support_by_token(token_of(headers), p.id) is None, change
            db.session.rollback()
    db.session.refresh(p)
    assert p.support_count == 2


def test_the_one_statement_support_reads_utc_as_the_columns_type_gives_it(
    app, client, api_token, make_proposal, db
):
    """The sign-in and the support run through SQLAlchemy: timestamps come back tz-aware in
    UTC (``core.types``), on PostgreSQL whatever the connection's zone."""
    from datetime import UTC

    from portal.accounts.auth import read_sign_in
    from portal.proposals.models import Proposal

    p = make_proposal("open", threshold=50)
    if db.engine.dialect.name == "postgresql":  # undone with the test's transaction
        db.session.execute(sa.text("SET TIME ZONE 'Asia/Shanghai'"))
    r = client.post(f"/api/v1/proposals/{p.id}/support", headers=api_token("resident2"))
    assert r.status_code == 201
    with app.test_request_context("/"):
        last = db.session.scalar(sa.select(Proposal.last_activity_at).where(Proposal.id == p.id))
        assert last.tzinfo is not None and last.utcoffset().total_seconds() == 0
    with app.test_request_context("/"):
        from portal.accounts.services import start_session

        user = user_by_email("resident2@example.org")
        row = start_session(user)
        db.session.commit()
        from flask import session

        session["sid"], session["_user_id"] = row.id, str(user.id)
        state = read_sign_in()
        assert state is not None and state.standing == "valid"
        assert state.user.created_at.tzinfo is not None
        assert state.user.created_at.astimezone(UTC) == state.user.created_at


def test_a_blocked_resident_is_told_why_on_the_proposal_page(
    app, client, db, login_as, make_proposal
):
    from portal.deliberation.models import Block

    p = make_proposal("open", threshold=50)
    blocked = user_by_email("resident3@example.org")
    db.session.add(Block(community_id=p.community_id, user_id=blocked.id, reason="测试"))
    db.session.commit()
    login_as(blocked)
    html = client.get(f"/proposals/{p.id}").get_data(as_text=True)
    assert "您已被限制参与本社区。" in html or "You are blocked from taking part" in html
    assert f'action="/proposals/{p.id}/support"' not in html
    assert "Only confirmed residents" not in html and "已确认居民才能附议" not in html
