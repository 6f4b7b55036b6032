"""The moderation workspace: a reason list per action with none chosen, the reports' reasons
and notes (never who reported), and errors at the field with what was ticked kept."""

from __future__ import annotations

import re

import pytest

from portal.deliberation.models import Comment

WORKSPACE = "/communities/110101001001/moderation"


@pytest.fixture
def proposal(make_proposal):
    return make_proposal("open", threshold=50)


def _reported_comment(client, api_token, proposal, make_user, community):
    c = client.post(
        f"/api/v1/proposals/{proposal.id}/comments",
        json={"body": "加微信买房 <i>", "stance": "for"},
        headers=api_token("resident2"),
    ).get_json()
    reporter = make_user(community=community, name="举报人甲")
    r = client.post(
        "/api/v1/reports",
        json={"target_type": "comment", "target_id": c["id"], "reason": "spam"},
        headers=api_token(reporter),
    )
    assert r.status_code == 201
    other = make_user(community=community, name="举报人乙")
    r = client.post(
        "/api/v1/reports",
        json={
            "target_type": "comment",
            "target_id": c["id"],
            "reason": "other",
            "note": "留了电话号码 <b>",
        },
        headers=api_token(other),
    )
    assert r.status_code == 201
    return c["id"]


def _select(html: str, name: str) -> str:
    return re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', html, re.S).group(1)


def test_reasons_per_action_none_chosen(
    app, login_as, client, api_token, proposal, make_user, community
):
    _reported_comment(client, api_token, proposal, make_user, community)
    committee = app.test_client()
    login_as("committee", committee)
    html = committee.get(WORKSPACE).get_data(as_text=True)
    hide, restore = _select(html, "hide_reason"), _select(html, "restore_reason")
    for options in (hide, restore):
        assert re.match(r'\s*<option[^>]*value=""', options)  # an empty first option...
        assert "selected" not in options  # ...and nothing chosen for the moderator
        assert options.count('value="other"') == 1
    assert 'value="spam"' in hide and 'value="spam"' not in restore
    assert 'value="no-violation"' in restore and 'value="no-violation"' not in hide


def test_reports_reasons_and_notes_shown_never_the_reporter(
    app, login_as, client, api_token, proposal, make_user, community
):
    _reported_comment(client, api_token, proposal, make_user, community)
    committee = app.test_client()
    login_as("committee", committee)
    html = committee.get(WORKSPACE).get_data(as_text=True)
    assert "垃圾信息或广告" in html or "Spam or advertising" in html
    assert "留了电话号码 &lt;b&gt;" in html
    assert "举报人甲" not in html and "举报人乙" not in html


def test_hide_without_a_reason_is_told_at_the_reason(
    app, login_as, client, api_token, proposal, make_user, community, db
):
    cid = _reported_comment(client, api_token, proposal, make_user, community)
    committee = app.test_client()
    login_as("committee", committee)
    r = committee.form(
        "/moderation",
        {
            "workspace": "110101001001",
            "next": WORKSPACE,
            "target": f"comment:{cid}",
            "action": "hide",
            "note": "请勿发广告",
        },
        page=WORKSPACE,
    )
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert 'id="hide_reason-error"' in html
    assert re.search(rf'value="comment:{cid}"\s+checked', html)
    assert re.search(r'value="hide" class="act-hide"\s+checked', html)
    assert "请勿发广告</textarea>" in html
    assert db.session.get(Comment, cid).hidden is False
    r = committee.form(
        "/moderation",
        {
            "workspace": "110101001001",
            "next": WORKSPACE,
            "target": f"comment:{cid}",
            "action": "hide",
            "hide_reason": "spam",
        },
        page=WORKSPACE,
    )
    assert r.status_code == 302
    row = db.session.get(Comment, cid)
    db.session.refresh(row)
    assert row.hidden is True and row.hidden_reason == "spam"


def test_nothing_ticked_is_told_on_the_workspace(
    app, login_as, client, api_token, proposal, make_user, community
):
    _reported_comment(client, api_token, proposal, make_user, community)
    committee = app.test_client()
    login_as("committee", committee)
    r = committee.form(
        "/moderation",
        {"workspace": "110101001001", "action": "restore", "restore_reason": "no-violation"},
        page=WORKSPACE,
    )
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert 'id="targets-error"' in html
    assert re.search(
        r'<option[^>]*value="no-violation"[^>]*selected|<option selected[^>]*value="no-violation"',
        html,
    )


def test_waiting_is_said_in_days_after_a_day(
    app, login_as, client, api_token, proposal, make_user, community, db
):
    from datetime import timedelta

    from portal.core import clock
    from portal.deliberation.models import Report

    _reported_comment(client, api_token, proposal, make_user, community)
    for row in db.session.scalars(db.select(Report)):
        row.created_at = clock.now() - timedelta(hours=73)
    db.session.commit()
    committee = app.test_client()
    login_as("committee", committee)
    html = committee.get(WORKSPACE).get_data(as_text=True)
    assert "3 天" in html or "3 days" in html
    assert "73" not in re.sub(r"<[^>]+>", "", html.split("<h2>", 1)[1])
