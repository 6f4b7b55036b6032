"""One error for every rule that says no (``core.errors.DomainError``), answered in one place:
JSON under /api/ (after which nothing of the request is kept), a flashed message and the way
back on pages; and one commit for an API request that succeeded."""

from __future__ import annotations

import pytest
from flask_babel import gettext
from sqlalchemy import event

from portal.accounts.services import AccountError
from portal.api import ApiError
from portal.cases.services import CaseError
from portal.core.errors import DomainError
from portal.core.i18n import force_locale
from portal.deliberation.services import DeliberationError
from portal.proposals.models import Status
from portal.proposals.services import ProposalError
from portal.residency.services import ResidencyError
from portal.roles.services import RoleError

FEATURE_ERRORS = [
    AccountError,
    CaseError,
    DeliberationError,
    ProposalError,
    ResidencyError,
    RoleError,
]


@pytest.mark.parametrize("cls", FEATURE_ERRORS, ids=lambda c: c.__name__)
def test_every_feature_error_is_a_domain_error_with_the_one_signature(cls):
    err = cls("too_long", "Use at most 10 characters.", status=400, field="title")
    assert isinstance(err, DomainError)
    assert (err.code, err.message, err.status, err.field) == (
        "too_long",
        "Use at most 10 characters.",
        400,
        "title",
    )
    assert err.fields == {"title": "Use at most 10 characters."}
    plain = cls("conflict", "No.")
    assert plain.status == 409 and plain.field is None and plain.fields is None
    with pytest.raises(TypeError):
        cls("conflict", "No.", 400)  # status and field by name only: no order to get wrong


def test_api_error_is_a_domain_error_with_several_fields_and_headers():
    err = ApiError("rate_limited", "Wait.", status=429, headers={"Retry-After": "5"})
    assert isinstance(err, DomainError) and err.status == 429 and err.fields is None
    assert dict(err.headers) == {"Retry-After": "5"}
    assert ApiError("x", "y", fields={"a": "1", "b": "2"}).fields == {"a": "1", "b": "2"}


def _commits(db) -> list[int]:
    seen: list[int] = []
    event.listen(db.session(), "after_commit", lambda _session: seen.append(1))
    return seen


def test_a_successful_api_write_is_committed_once(client, api_token, make_proposal, db):
    p = make_proposal("open")
    headers = api_token("resident")
    commits = _commits(db)
    r = client.post(
        f"/api/v1/proposals/{p.id}/withdraw", json={"reason": "已解决"}, headers=headers
    )
    assert r.status_code == 200 and r.get_json()["status"] == "withdrawn"
    assert len(commits) == 1
    assert not db.session().in_transaction() or not db.session().dirty


def test_a_rule_that_says_no_in_the_api_answers_json_and_keeps_nothing(
    client, api_token, make_proposal, db
):
    p = make_proposal("submitted")
    headers = api_token("committee")
    commits = _commits(db)
    r = client.post(
        f"/api/v1/proposals/{p.id}/review", json={"decision": "request_changes"}, headers=headers
    )
    assert r.status_code == 400
    error = r.get_json()["error"]
    assert error["code"] == "note_required"
    assert error["fields"] == {"note": error["message"]}
    assert commits == []
    db.session.refresh(p)
    assert p.status == Status.submitted


def test_a_rule_that_says_no_on_a_page_flashes_and_leads_back(app, login_as, make_proposal, db):
    p = make_proposal("open")
    client = app.test_client()
    login_as("resident2", client)
    page = f"/proposals/{p.id}"
    first = client.form(f"/proposals/{p.id}/support", page=page)
    assert first.status_code == 302
    again = client.form(f"/proposals/{p.id}/support", page=page)
    assert again.status_code == 302 and again.headers["Location"].endswith(page)
    html = client.get(page).get_data(as_text=True)
    assert _zh(app, "You already support this proposal.") in html


def test_a_forbidden_action_on_a_page_shows_the_error_page_with_its_reason(
    app, login_as, make_proposal, db
):
    p = make_proposal("open")
    client = app.test_client()
    login_as("resident_b", client)  # a resident of another community
    r = client.form(f"/proposals/{p.id}/support", page=f"/proposals/{p.id}")
    assert r.status_code == 403
    reason = _zh(app, "Only confirmed residents of this community can support it.")
    assert reason in r.get_data(as_text=True)


def _zh(app, message: str) -> str:
    with app.test_request_context(), force_locale("zh_Hans"):
        text = gettext(message)
    assert text != message  # the pages speak Chinese: look for the message as they say it
    return text


def test_a_page_of_another_role_leads_on_to_ones_own(client, anon, login_as):
    """A deep link meant for another role is a 403 with a way on: a visitor is offered to sign
    in and come back; a signed-in person is led to where their own work is."""
    page = anon.get("/workspace/grid", headers={"Accept-Language": "en"})
    html = page.get_data(as_text=True)
    assert page.status_code in (302, 403)
    if page.status_code == 403:
        assert "/login?next=/workspace/grid" in html
    login_as("resident")
    page = client.get("/workspace/grid", headers={"Accept-Language": "en"})
    html = page.get_data(as_text=True)
    assert page.status_code == 403
    assert "前往我的起始页" in html and 'href="/communities/110101001001"' in html
    login_as("liaison")
    html = client.get("/workspace/grid").get_data(as_text=True)
    assert 'href="/workspace/agency/health-commission"' in html
