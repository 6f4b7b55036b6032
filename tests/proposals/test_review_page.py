"""The committee's review on a proposal's page: one small form per decision, each validated on
its own, errors at the field with what was typed kept, and the similar proposals the author
was shown; a pending proposal says what happens next."""

from __future__ import annotations

import re
from datetime import timedelta

from portal.core import clock
from portal.proposals import services
from portal.proposals.models import Status


def _committee(app, login_as):
    client = app.test_client()
    login_as("committee", client)
    return client


def test_each_decision_asks_only_for_its_fields(app, login_as, make_proposal):
    p = make_proposal("submitted")
    html = _committee(app, login_as).get(f"/proposals/{p.id}").get_data(as_text=True)
    forms = dict(
        re.findall(r'<details class="decision decision-(\w+)"[^>]*>(.*?)</details>', html, re.S)
    )
    assert list(forms) == ["approve", "request_changes", "reject", "duplicate"]
    assert "reason_code" not in forms["approve"] and "duplicate_of" not in forms["approve"]
    assert 'name="reject-reason_code"' in forms["reject"] and "duplicate_of" not in forms["reject"]
    assert 'name="duplicate-duplicate_of"' in forms["duplicate"]
    assert "reason_code" not in forms["duplicate"]
    # No reason is chosen for the committee: the list starts empty.
    assert re.search(r'<select[^>]*name="reject-reason_code"[^>]*>\s*<option[^>]*value=""', html)
    # A duplicate is its own decision, not among the reasons of a plain rejection.
    assert 'value="duplicate"' not in forms["reject"]
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), "duplicate ids"


def test_changes_without_a_note_are_refused_at_the_note(app, login_as, make_proposal, db):
    p = make_proposal("submitted")
    client = _committee(app, login_as)
    r = client.form(
        f"/proposals/{p.id}/review", {"decision": "request_changes"}, page=f"/proposals/{p.id}"
    )
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert 'id="request_changes-note-error"' in html
    assert '<details class="decision decision-request_changes" open>' in html
    db.session.refresh(p)
    assert p.status == Status.submitted


def test_unknown_original_is_refused_with_the_number_kept(app, login_as, make_proposal, db):
    p = make_proposal("submitted")
    client = _committee(app, login_as)
    r = client.form(
        f"/proposals/{p.id}/review",
        {"decision": "duplicate", "duplicate-duplicate_of": "#999999", "duplicate-note": "同上"},
        page=f"/proposals/{p.id}",
    )
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert 'id="duplicate-duplicate_of-error"' in html and 'value="#999999"' in html
    assert "同上</textarea>" in html
    original = make_proposal("open")
    r = client.form(
        f"/proposals/{p.id}/review",
        {"decision": "duplicate", "duplicate-duplicate_of": f"#{original.id}"},
        page=f"/proposals/{p.id}",
    )
    assert r.status_code == 302
    db.session.refresh(p)
    assert p.status == Status.rejected and p.duplicate_of_id == original.id
    assert p.reject_reason == "duplicate"


def test_reject_needs_a_reason(app, login_as, make_proposal, db):
    p = make_proposal("submitted")
    client = _committee(app, login_as)
    page = f"/proposals/{p.id}"
    r = client.form(f"/proposals/{p.id}/review", {"decision": "reject"}, page=page)
    assert r.status_code == 400 and 'id="reject-reason_code-error"' in r.get_data(as_text=True)
    r = client.form(
        f"/proposals/{p.id}/review",
        {"decision": "reject", "reject-reason_code": "not-public-interest"},
        page=page,
    )
    assert r.status_code == 302
    db.session.refresh(p)
    assert p.status == Status.rejected


def test_an_unknown_decision_is_a_bad_request(app, login_as, make_proposal):
    p = make_proposal("submitted")
    client = _committee(app, login_as)
    r = client.form(f"/proposals/{p.id}/review", {"decision": "maybe"}, page=f"/proposals/{p.id}")
    assert r.status_code == 400


def test_similar_proposals_beside_the_one_under_review(app, login_as, make_proposal):
    older = make_proposal("open", title="小区东门路灯不亮", summary="晚上东门很黑")
    p = make_proposal("submitted", title="东门路灯不亮了", summary="东门晚上很黑")
    html = _committee(app, login_as).get(f"/proposals/{p.id}").get_data(as_text=True)
    aside = re.search(r'<aside class="review-similar".*?</aside>', html, re.S).group(0)
    assert f'href="/proposals/{older.id}"' in aside and f"#{older.id}" in aside
    assert f'href="/proposals/{p.id}"' not in aside
    # The author, who sees no review, is not shown the committee's panel.
    author = app.test_client()
    login_as("resident", author)
    assert "review-similar" not in author.get(f"/proposals/{p.id}").get_data(as_text=True)


def test_pending_proposal_says_what_happens_next(app, login_as, make_proposal, community, db):
    p = make_proposal("submitted")
    author = app.test_client()
    login_as("resident", author)
    html = author.get(f"/proposals/{p.id}").get_data(as_text=True)
    threshold = services.threshold_for(community)
    days = services.REVIEW_DAYS
    # No history yet: the configured aim, then the supports it will need.
    assert f"居委会力争在 {days} 天内" in html
    assert f"{threshold} 位居民附议" in html


def test_review_time_quoted_is_the_communitys_median(app, make_proposal, community, db):
    for hours in (20, 30, 40, 50, 60):
        q = make_proposal("open")
        q.submitted_at = clock.now() - timedelta(hours=hours + 1)
        q.reviewed_at = q.submitted_at + timedelta(hours=hours)
    db.session.commit()
    assert services.typical_review_days(community) == (2, True)  # median 40 h → 2 days
