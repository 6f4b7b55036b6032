"""The supporters' "is it solved?" form carries its CSRF token under the form's prefix
(fb-csrf_token), which the site-wide check finds like any other: a POST without a token, or with
a forged one, changes nothing (wapiti's exception for this form rests on it)."""

from __future__ import annotations

import re

import sqlalchemy as sa

from portal.cases.models import CaseFeedback


def test_feedback_without_or_with_a_forged_token_is_refused(app, make_case, login_as, db):
    case = make_case("verifying")
    client = app.test_client()
    login_as("resident2", client)
    page = client.get(f"/cases/{case.number}").get_data(as_text=True)
    assert re.search(r'name="fb-csrf_token" type="hidden" value="[^"]+"', page)
    answer = {"fb-solved": "yes", "fb-satisfaction": "5", "fb-comment": "好"}
    url = f"/cases/{case.number}/feedback"
    assert client.post(url, data=answer).status_code == 400
    forged = client.post(url, data={**answer, "fb-csrf_token": "forged"})
    assert forged.status_code in (303, 400)  # back to the page with a message, or refused
    count = sa.select(sa.func.count()).select_from(CaseFeedback)
    assert db.session.scalar(count.where(CaseFeedback.case_id == case.id)) == 0
    # With the page's own token it is counted.
    token = re.search(r'name="fb-csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post(url, data={**answer, "fb-csrf_token": token}).status_code == 302
    assert db.session.scalar(count.where(CaseFeedback.case_id == case.id)) == 1
