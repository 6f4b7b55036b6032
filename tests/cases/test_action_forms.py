"""Staff action forms on the case page: errors at the field, what was typed kept, one main
action per stage and the rarer ones under "Other actions"."""

from __future__ import annotations

import re
from datetime import timedelta

from portal.cases.models import CaseState
from portal.core import clock
from tests.cases.conftest import LIAISON


def _other_actions(html: str) -> str:
    match = re.search(r'<details class="other-actions"[^>]*>(.*?)</details>', html, re.S)
    return match.group(1) if match else ""


def test_main_action_first_and_the_rarer_ones_under_other_actions(app, make_case, login_as):
    client = app.test_client()
    login_as(LIAISON, client)
    dispatched = client.get(f"/cases/{make_case('dispatched').number}").get_data(as_text=True)
    others = _other_actions(dispatched)
    assert 'id="act-accept-form"' in dispatched and 'id="act-accept-form"' not in others
    assert 'id="act-return-form"' in others  # returning is the rarer step
    assert re.search(r'<details class="other-actions"\s*>', dispatched)  # closed by default
    in_progress = client.get(f"/cases/{make_case('in_progress').number}").get_data(as_text=True)
    others = _other_actions(in_progress)
    assert 'id="act-resolve-form"' in in_progress and 'id="act-resolve-form"' not in others
    assert 'id="act-request_extension-form"' in others and 'id="act-progress-form"' in others


def test_a_refused_plan_keeps_the_note_and_date_at_their_fields(app, make_case, login_as, db):
    case = make_case("accepted")
    client = app.test_client()
    login_as(LIAISON, client)
    page = f"/cases/{case.number}"
    late = (case.handling_due_at + timedelta(days=5)).strftime("%Y-%m-%dT%H:%M")
    note = "周三更换灯杆 <b>"
    r = client.form(
        f"/cases/{case.number}/actions",
        {"act-action": "plan", "act-note": note, "act-expected_at": late},
        page=page,
    )
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    # The date's error sits at the date, described by it; both values are kept (escaped).
    assert re.search(r'id="act-plan-expected"[^>]*aria-invalid="true"', html) or re.search(
        r'aria-invalid="true"[^>]*id="act-plan-expected"', html
    )
    assert 'id="act-plan-expected-error"' in html
    assert f'value="{late}"' in html
    assert "周三更换灯杆 &lt;b&gt;</textarea>" in html
    db.session.refresh(case)
    assert case.state == CaseState.accepted


def test_a_missing_note_is_told_at_the_note_of_the_rarer_action(app, make_case, login_as):
    case = make_case("dispatched")
    client = app.test_client()
    login_as(LIAISON, client)
    page = f"/cases/{case.number}"
    r = client.form(f"/cases/{case.number}/actions", {"act-action": "return"}, page=page)
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert 'id="act-return-note-error"' in html
    # The form that failed is in "Other actions", which opens to show it.
    assert re.search(r'<details class="other-actions" open>', html)


def test_an_action_no_longer_possible_is_told_on_the_page(app, make_case, login_as, db):
    case = make_case("dispatched")
    client = app.test_client()
    login_as(LIAISON, client)
    page = f"/cases/{case.number}"
    token = client.csrf_token(page)
    first = client.form(f"/cases/{case.number}/actions", {"act-action": "accept"}, page=page)
    assert first.status_code == 302
    r = client.post(
        f"/cases/{case.number}/actions", data={"act-action": "accept", "act-csrf_token": token}
    )
    assert r.status_code == 409
    assert "flash-error" in r.get_data(as_text=True)


def test_a_good_plan_is_saved(app, make_case, login_as, db):
    case = make_case("accepted")
    client = app.test_client()
    login_as(LIAISON, client)
    page = f"/cases/{case.number}"
    soon = (clock.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    r = client.form(
        f"/cases/{case.number}/actions",
        {"act-action": "plan", "act-note": "明天", "act-expected_at": soon},
        page=page,
    )
    assert r.status_code == 302
    db.session.refresh(case)
    assert case.state == CaseState.in_progress


def test_feedback_without_an_answer_is_shown_at_the_question(app, make_case, login_as):
    case = make_case("verifying")
    client = app.test_client()
    login_as("resident2", client)
    page = f"/cases/{case.number}"
    r = client.form(
        f"/cases/{case.number}/feedback", {"fb-satisfaction": "4", "fb-comment": "还行"}, page=page
    )
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert 'id="fb-solved-error"' in html and 'value="还行"' in html
