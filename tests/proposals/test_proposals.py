"""Proposals: writing, review, visibility, lists, search, similarity, API."""

from __future__ import annotations

import math
from datetime import timedelta

import sqlalchemy as sa

from portal.core import clock
from portal.notifications.models import Notification
from portal.proposals import services
from portal.proposals.models import Proposal, ProposalEvent, Status, Support
from portal.proposals.services import supports
from tests.conftest import NASTY, user_by_email

FORM = {
    "title": "社区卫生站太远了",
    "summary": "老人看病要走两公里",
    "body": "希望在小区附近设立卫生服务站。",
    "category": "health",
    "grid": "",
    "location_note": "3号楼北侧",
}


def _new(client, data=None, action="submit", code="110101001001"):
    url = f"/communities/{code}/proposals/new"
    return client.form(url, {**FORM, **(data or {}), "action": action}, page=url)


def test_resident_submits_and_committee_approves(app, login_as, db, community):
    author = app.test_client()
    user = login_as("resident", author)
    r = _new(author)
    assert r.status_code == 302
    p = db.session.scalar(sa.select(Proposal).order_by(Proposal.id.desc()))
    assert p.status == Status.submitted and p.review_due_at is not None
    # Before approval only the author and the committee see it.
    assert app.test_client().get(f"/proposals/{p.id}").status_code == 404
    other = app.test_client()
    login_as("resident2", other)
    assert other.get(f"/proposals/{p.id}").status_code == 404
    committee = app.test_client()
    login_as("committee", committee)
    queue = committee.get("/communities/110101001001/review").get_data(as_text=True)
    assert "社区卫生站太远了" in queue
    r = committee.form(
        f"/proposals/{p.id}/review", {"decision": "approve"}, page=f"/proposals/{p.id}"
    )
    assert r.status_code == 302
    db.session.refresh(p)
    assert p.status == Status.open and p.support_count == 1  # the author's own support
    assert p.threshold == services.threshold_for(community)
    assert math.isclose((p.closes_at - p.opened_at).days, community.support_window_days)
    note = db.session.scalar(
        sa.select(Notification).where(
            Notification.user_id == user.id, Notification.type == "proposal_approved"
        )
    )
    assert note is not None
    page = app.test_client().get(f"/proposals/{p.id}").get_data(as_text=True)
    assert "<progress" in page and f'max="{p.threshold}"' in page


def test_threshold_formula(community, db):
    community.support_minimum, community.support_percent = 20, 5.0
    community.confirmed_residents = 1000
    assert services.threshold_for(community) == 50
    community.confirmed_residents = 101
    assert services.threshold_for(community) == 20  # max(20, ceil(5.05)) = 20
    community.support_minimum, community.confirmed_residents = 3, 1001
    assert services.threshold_for(community) == 51  # ceil(50.05)
    db.session.rollback()


def test_threshold_is_frozen_when_opened(make_proposal, community, db):
    p = make_proposal("open")
    before = p.threshold
    community.support_minimum = 500
    db.session.commit()
    db.session.refresh(p)
    assert p.threshold == before


def test_bad_input_keeps_text_and_escapes(app, login_as):
    client = app.test_client()
    login_as("resident", client)
    r = _new(
        client,
        {"title": "x" * 81, "summary": "", "body": "<script>alert(1)</script>", "category": "nope"},
    )
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    for field in ("title", "summary", "category"):
        assert f'id="{field}-error"' in html, field
    assert "x" * 81 in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_another_communitys_grid_is_refused(app, login_as):
    client = app.test_client()
    login_as("resident", client)
    r = _new(client, {"grid": "110101001002001"})
    assert r.status_code == 400 and 'id="grid-error"' in r.get_data(as_text=True)


def test_only_residents_of_the_community_write_there(app, login_as, make_user):
    client = app.test_client()
    login_as("resident_b", client)
    assert client.get("/communities/110101001001/proposals/new").status_code == 403
    login_as(make_user(), client)
    assert client.get("/communities/110101001001/proposals/new").status_code == 403


def test_body_is_sanitised(make_proposal, app):
    p = make_proposal("open")
    assert "<script>" not in p.body_html and "<strong>" in p.body_html
    html = app.test_client().get(f"/proposals/{p.id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html  # the title's markup is escaped


def test_draft_then_edit_then_submit(app, login_as, db):
    client = app.test_client()
    login_as("resident", client)
    assert _new(client, action="draft").status_code == 302
    p = db.session.scalar(sa.select(Proposal).order_by(Proposal.id.desc()))
    assert p.status == Status.draft
    r = client.form(
        f"/proposals/{p.id}/edit",
        {**FORM, "title": "改过的标题", "action": "submit"},
        page=f"/proposals/{p.id}/edit",
    )
    assert r.status_code == 302
    db.session.refresh(p)
    assert p.title == "改过的标题" and p.status == Status.submitted
    # No more edits once submitted.
    r = client.get(f"/proposals/{p.id}/edit")
    assert r.status_code == 302


def test_someone_else_cannot_edit(app, login_as, make_proposal):
    p = make_proposal("draft")
    client = app.test_client()
    login_as("resident2", client)
    assert client.get(f"/proposals/{p.id}/edit").status_code == 404  # a draft is private


def test_request_changes_then_resubmit(app, login_as, make_proposal, db):
    p = make_proposal("changes_requested")
    client = app.test_client()
    login_as("resident", client)
    page = client.get(f"/proposals/{p.id}").get_data(as_text=True)
    assert "请补充位置" in page
    r = client.form(
        f"/proposals/{p.id}/edit", {**FORM, "action": "submit"}, page=f"/proposals/{p.id}/edit"
    )
    assert r.status_code == 302
    db.session.refresh(p)
    assert p.status == Status.submitted


def test_reject_needs_reason_and_duplicate_points_to_original(app, login_as, make_proposal, db):
    original = make_proposal("open")
    p = make_proposal("submitted")
    committee = user_by_email("committee@example.org")
    with app.test_request_context("/"):
        for kwargs in ({}, {"reason_code": "bogus"}, {"reason_code": "duplicate"}):
            try:
                services.review(committee, p, "reject", **kwargs)
            except services.ProposalError as err:
                assert err.status == 400
            else:
                raise AssertionError(kwargs)
        services.review(committee, p, "reject", reason_code="duplicate", duplicate_of=original)
    db.session.commit()
    page = app.test_client().get(f"/proposals/{p.id}").get_data(as_text=True)
    assert f"/proposals/{original.id}" in page


def test_committee_of_another_community_cannot_review(app, login_as, make_proposal):
    p = make_proposal("submitted")
    client = app.test_client()
    login_as("committee_b", client)
    assert client.get(f"/proposals/{p.id}").status_code == 404
    r = client.form(f"/proposals/{p.id}/review", {"decision": "approve"}, page="/")
    assert r.status_code in (403, 404)
    assert client.get("/communities/110101001001/review").status_code == 403


def test_invalid_transitions_are_refused(app, make_proposal):
    p = make_proposal("open")
    committee = user_by_email("committee@example.org")
    with app.test_request_context("/"):
        try:
            services.review(committee, p, "approve")
        except services.ProposalError as err:
            assert err.code == "invalid_transition"
        else:
            raise AssertionError("approved twice")
        for frm, to in services.TRANSITIONS:
            assert (frm, to) != (Status.rejected, Status.open)


def test_withdraw_needs_reason_and_is_public(app, login_as, make_proposal, db):
    p = make_proposal("open")
    client = app.test_client()
    login_as("resident", client)
    client.form(f"/proposals/{p.id}/withdraw", {"reason": ""}, page=f"/proposals/{p.id}")
    db.session.refresh(p)
    assert p.status == Status.open
    client.form(f"/proposals/{p.id}/withdraw", {"reason": "问题已解决"}, page=f"/proposals/{p.id}")
    db.session.refresh(p)
    assert p.status == Status.withdrawn
    assert "问题已解决" in app.test_client().get(f"/proposals/{p.id}").get_data(as_text=True)


def test_cannot_withdraw_after_threshold(app, make_proposal):
    p = make_proposal("qualified")
    with app.test_request_context("/"):
        try:
            services.withdraw(user_by_email("resident1@example.org"), p, "x")
        except services.ProposalError as err:
            assert err.code == "invalid_transition"
        else:
            raise AssertionError


def test_status_history_is_public(app, make_proposal):
    p = make_proposal("qualified")
    html = app.test_client().get(f"/proposals/{p.id}").get_data(as_text=True)
    assert html.count("<li><time") >= 4  # draft, submitted, open, qualified


def test_review_queue_marks_overdue(app, login_as, make_proposal, db):
    from datetime import timedelta

    from portal.core import clock

    p = make_proposal("submitted")
    client = app.test_client()
    clock.freeze(clock.now() + timedelta(days=4))
    login_as("committee", client)
    html = client.get("/communities/110101001001/review").get_data(as_text=True)
    assert "overdue" in html and p.title[:3] in html


def test_long_queue_notice_on_community_list(app, make_proposal):
    for _ in range(10):
        make_proposal("submitted")
    html = app.test_client().get("/communities/110101001001/proposals").get_data(as_text=True)
    assert 'class="notice"' in html


def test_lists_filter_sort_and_paginate(app, make_proposal, db, category):
    made = [make_proposal("open") for _ in range(23)]
    made[3].support_count = 9
    db.session.commit()
    client = app.test_client()
    url = "/communities/110101001001/proposals"
    html = client.get(url).get_data(as_text=True)
    assert html.count('class="card proposal-card"') == 20 and "cursor=" in html
    import re

    nxt = re.search(r'rel="next" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    more = client.get(nxt).get_data(as_text=True)
    assert more.count('class="card proposal-card"') >= 3
    top = client.get(url + "?sort=top").get_data(as_text=True)
    assert top.index(f'/proposals/{made[3].id}"') < top.index(f'/proposals/{made[-1].id}"')
    for sort in ("closing", "active"):
        assert client.get(f"{url}?sort={sort}").status_code == 200
    assert client.get(url + "?category=care").get_data(as_text=True).count("proposal-card") == 0
    assert client.get(url + "?cursor=garbage").status_code == 400
    assert client.get("/places/110101/proposals").status_code == 200


def test_chinese_search_finds_two_character_queries(app, make_proposal):
    a = make_proposal("open", title="卫生站太远了", summary="看病不方便")
    b = make_proposal("open", title="增加健身器材", summary="公园里缺少器材")
    client = app.test_client()
    html = client.get("/communities/110101001001/proposals?q=卫生").get_data(as_text=True)
    assert f'/proposals/{a.id}"' in html and f'/proposals/{b.id}"' not in html
    api = client.get("/api/v1/proposals?community=110101001001&q=器材").get_json()
    assert [i["id"] for i in api["items"]] == [b.id]
    assert client.get("/api/v1/proposals?q=%25").get_json()["items"] == []


def test_similar_proposals_are_shown_before_submitting(app, login_as, make_proposal, db):
    existing = make_proposal("open", title="卫生站太远了", summary="老人看病要走两公里")
    client = app.test_client()
    login_as("resident2", client)
    r = _new(client, {"title": "社区卫生站", "summary": "希望建社区卫生站"})
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and f'/proposals/{existing.id}"' in html
    assert 'value="社区卫生站"' in html and 'name="confirmed" type="hidden" value="1"' in html
    # Submitting anyway works and nothing was lost.
    r = client.form(
        "/communities/110101001001/proposals/new",
        {
            **FORM,
            "title": "社区卫生站",
            "summary": "希望建社区卫生站",
            "confirmed": "1",
            "action": "submit",
        },
        page="/communities/110101001001/proposals/new",
    )
    assert r.status_code == 302
    api = app.test_client().get("/api/v1/proposals/similar?community=110101001001&q=社区卫生站")
    assert existing.id in [i["id"] for i in api.get_json()["items"]]


def test_expiry_is_derived_then_stamped(app, make_proposal, db):
    p = make_proposal("expired")
    assert services.effective_status(p) == Status.expired
    r = app.test_client().get(f"/api/v1/proposals/{p.id}").get_json()
    assert r["status"] == "expired"
    result = app.test_cli_runner().invoke(args=["proposals", "sweep"])
    assert result.exit_code == 0 and "1 expired" in result.output
    db.session.refresh(p)
    assert p.status == Status.expired and p.expired_at is not None
    again = app.test_cli_runner().invoke(args=["proposals", "sweep"])
    assert "0 expired" in again.output


def test_database_keeps_status_consistent(db, make_proposal):
    p = make_proposal("open")
    import pytest

    with pytest.raises(sa.exc.IntegrityError), db.session.begin_nested():
        db.session.execute(
            sa.update(Proposal).where(Proposal.id == p.id).values(status=Status.qualified)
        )
    with pytest.raises(sa.exc.IntegrityError), db.session.begin_nested():
        db.session.execute(
            sa.update(Proposal).where(Proposal.id == p.id).values(status=Status.rejected)
        )
    with pytest.raises(sa.exc.IntegrityError), db.session.begin_nested():
        db.session.execute(sa.update(Proposal).where(Proposal.id == p.id).values(support_count=-1))


def test_events_record_roles_not_names(make_proposal, db):
    p = make_proposal("rejected")
    events = db.session.scalars(
        sa.select(ProposalEvent).where(ProposalEvent.proposal_id == p.id)
    ).all()
    assert [e.actor_role for e in events] == ["author", "author", "committee"]
    assert NASTY not in str([e.note for e in events])


def test_supports_table_is_never_exposed(app, make_proposal, db):
    p = make_proposal("qualified")
    supporter = user_by_email("resident2@example.org")
    assert db.session.scalar(sa.select(Support).where(Support.user_id == supporter.id))
    client = app.test_client()
    for url in (
        f"/proposals/{p.id}",
        f"/api/v1/proposals/{p.id}",
        "/api/v1/proposals",
        "/communities/110101001001/proposals",
    ):
        body = client.get(url).get_data(as_text=True)
        assert supporter.display_name not in body, url


def test_list_and_page_queries_do_not_grow_with_rows(app, make_proposal, count_queries, login_as):
    client = app.test_client()
    login_as("resident2", client)
    url = "/communities/110101001001/proposals"
    for _ in range(3):
        make_proposal("open")
    client.get(url)  # warm caches (city time zone etc.)
    with count_queries() as few:
        client.get(url)
    for _ in range(15):
        make_proposal("open")
    with count_queries() as many:
        client.get(url)
    assert many.count == few.count, (few.count, many.count)
    api = "/api/v1/proposals?community=110101001001"
    with count_queries() as q:
        client.get(api)
    assert q.count <= few.count + 2


def test_similar_never_reveals_proposals_awaiting_review(app, make_proposal):
    hidden = make_proposal("submitted", title="卫生站太远了", summary="老人看病要走两公里")
    r = app.test_client().get("/api/v1/proposals/similar?community=110101001001&q=社区卫生站")
    assert hidden.id not in [i["id"] for i in r.get_json()["items"]]
    assert "卫生站太远了" not in r.get_data(as_text=True)


def test_sweep_qualifies_a_proposal_left_open_at_its_threshold(app, make_proposal, db, monkeypatch):
    """A support stored alone and a qualification that did not follow (the process stopped, or
    the database failed) leave the proposal open at the threshold: the failure is logged, the
    support stands, the sweep neither expires it nor stops, and qualifies it under the one
    filing policy: with no agency covering it, it waits to be filed, and is filed once a
    routing rule exists."""
    from portal.cases import services as cases
    from portal.cases.models import Case, RoutingRule
    from portal.roles.models import Agency

    p = make_proposal("open", threshold=3)
    p.support_count = 3
    p.closes_at = clock.now() - timedelta(minutes=1)  # and its window closed
    db.session.execute(sa.delete(RoutingRule))
    db.session.commit()

    def broken(_p, _reached=None):
        raise RuntimeError("the database went away")

    with monkeypatch.context() as m:
        m.setattr(supports, "_qualify", broken)
        with app.test_request_context("/"):
            assert supports._qualify_apart(p.id) == Status.open
        failed = app.test_cli_runner().invoke(args=["proposals", "sweep"])
    assert failed.exit_code == 0 and "0 qualified, 0 filed, 0 expired" in failed.output
    assert "1 reached their threshold but could not qualify" in failed.output
    db.session.refresh(p)
    assert p.status == Status.open and p.support_count == 3

    waiting = app.test_cli_runner().invoke(args=["proposals", "sweep"])
    assert waiting.exit_code == 0 and "1 qualified, 0 filed, 0 expired" in waiting.output
    db.session.refresh(p)
    assert p.status == Status.qualified and p.threshold_reached_at is not None
    assert p.filing_pending_since is not None and p.filing_error == "no_route"

    with app.test_request_context("/"):
        agency = db.session.scalars(sa.select(Agency).order_by(Agency.id)).first()
        cases.set_rule(None, None, p.community.street.district, agency)
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["proposals", "sweep"])
    assert result.exit_code == 0 and "0 qualified, 1 filed, 0 expired" in result.output
    db.session.refresh(p)
    assert p.filing_pending_since is None
    assert db.session.scalar(sa.select(sa.func.count(Case.id)).where(Case.proposal_id == p.id)) == 1
    again = app.test_cli_runner().invoke(args=["proposals", "sweep"])
    assert "0 qualified, 0 filed, 0 expired" in again.output


def test_support_in_one_statement_gives_the_same_answers(app, make_proposal, api_token, db):
    """The one-statement support (PostgreSQL) and the full path (its fallback, and SQLite's)
    store one support, count it, and say why when they cannot."""
    from portal.proposals.models import Support

    p = make_proposal("open", threshold=50)
    headers = api_token("resident2@example.org")
    c = app.test_client()
    r = c.post(f"/api/v1/proposals/{p.id}/support", headers=headers)
    assert r.status_code == 201 and r.get_json() == {"support_count": 2, "status": "open"}
    again = c.post(f"/api/v1/proposals/{p.id}/support", headers=headers)
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "already_supported"
    missing = c.post("/api/v1/proposals/999999/support", headers=headers)
    assert missing.status_code == 404
    db.session.expire_all()
    rows = db.session.scalar(sa.select(sa.func.count()).where(Support.proposal_id == p.id))
    assert rows == 2 and db.session.get(type(p), p.id).support_count == 2
    # The support that reaches the threshold qualifies the proposal with it, at once.
    q = make_proposal("open", threshold=2)
    r = c.post(f"/api/v1/proposals/{q.id}/support", headers=headers)
    assert r.status_code == 201 and r.get_json() == {"support_count": 2, "status": "qualified"}


def test_list_cards_written_in_python_escape_every_value(app):
    """``cards.card_list`` writes a list's cards in Python: what authors and staff wrote (a
    title, a summary, a category's or a case's words) is escaped, and the reader's support,
    the progress and the case parts are where the page's macro put them."""
    from markupsafe import Markup

    from portal.core.i18n import force_locale
    from portal.proposals.cards import CardView, card_list
    from portal.proposals.models import Status

    def view(i, **kw):
        base = {
            "card": None,
            "id": i,
            "url": f"/proposals/{i}",
            "icon": "<i>",
            "category": "<b>Health</b>",
            "community": "C",
            "status": Status.open,
            "status_label": "Open <now>",
            "title": '<script>alert("t")</script>',
            "summary": "<img src=x onerror=alert(1)>",
            "threshold": 10,
            "value": 4,
            "percent": 40,
            "reached": False,
            "progress": "4 of 10 <supports>",
            "days_left": "3 days left",
        }
        base.update(kw)
        return CardView(**base)

    def parts(case):
        return Markup('<span class="status">CASE</span>'), Markup('<p class="case-line">L</p>')

    with app.test_request_context("/"), force_locale("en"):
        html = str(card_list([view(1), view(2, threshold=0)], {1}, {2: object()}, parts))
    assert "<script>" not in html and "<img" not in html and "<b>" not in html and "<i>" not in html
    assert "&lt;script&gt;" in html and "&lt;img src=x" in html and "Open &lt;now&gt;" in html
    assert html.count("You support this") == 1
    assert '<progress value="4" max="10"' in html and "4 of 10 &lt;supports&gt;" in html
    assert html.count("<progress") == 1  # the second has no threshold
    assert 'class="status">CASE</span>' in html and '<p class="case-line">L</p>' in html
    assert html.count('<li class="card proposal-card">') == 2


def test_api_list_finds_the_community_by_its_code_in_the_page_statement(
    app, make_proposal, make_user, community_b, count_queries
):
    """The API's ``community`` filter is resolved in the page's own statement: the page keeps
    to that community (searching included), a code that names none is still a 400 at the
    field, and a community with nothing to show an empty list, not an error."""
    here = make_proposal("open", title="卫生站太远了", summary="看病不方便")
    there = make_proposal(
        "open",
        author=make_user(community=community_b),
        title="卫生站也远",
        summary="看病不方便",
        community_=community_b,
    )
    client = app.test_client()
    a = client.get("/api/v1/proposals?community=110101001001").get_json()["items"]
    b = client.get("/api/v1/proposals?community=110101001002").get_json()["items"]
    assert here.id in [i["id"] for i in a] and there.id not in [i["id"] for i in a]
    assert [i["id"] for i in b] == [there.id]
    found = client.get("/api/v1/proposals?community=110101001002&q=卫生").get_json()["items"]
    assert [i["id"] for i in found] == [there.id]
    # One statement for the page: no lookup of the code before it.
    client.get("/api/v1/proposals?community=110101001002")
    with count_queries() as by_code:
        client.get("/api/v1/proposals?community=110101001002")
    with count_queries() as unfiltered:
        client.get("/api/v1/proposals")
    assert by_code.count == unfiltered.count
    unknown = client.get("/api/v1/proposals?community=999999999999")
    assert unknown.status_code == 400
    assert unknown.get_json()["error"]["fields"] == {"community": "No community has this code."}
    empty = client.get("/api/v1/proposals?community=110101001002&status=withdrawn")
    assert empty.status_code == 200 and empty.get_json() == {"items": [], "next": None}


def test_a_community_list_says_how_many_proposals_wait_for_review(
    app, make_proposal, make_user, community, community_b
):
    """The community's list reads the community and its review queue's size in one
    statement (``community_with_review_queue_size``), counting as ``review_queue_size`` does:
    its own submissions waiting for review, not another community's, not those decided."""
    from portal.proposals.services import community_with_review_queue_size, review_queue_size

    for _ in range(10):
        make_proposal("submitted")
    make_proposal("open")
    make_proposal("submitted", author=make_user(community=community_b), community_=community_b)
    with app.test_request_context("/"):
        found, waiting = community_with_review_queue_size("110101001001")
        assert found.id == community.id and waiting == 10 == review_queue_size(community)
        assert community_with_review_queue_size("110101001002")[1] == 1
        assert community_with_review_queue_size("999999999999") is None
    client = app.test_client()
    html = client.get("/communities/110101001001/proposals").get_data(as_text=True)
    assert "目前有 10 条提议等待居委会审核" in html
    assert client.get("/communities/999999999999/proposals").status_code == 404
