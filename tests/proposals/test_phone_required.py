"""With SIGN_IN_METHODS=phone, an account takes part (proposes, comments, supports) only once
it has verified a mobile number: on the pages, the API and the services alike."""

from __future__ import annotations

import pytest

from portal.accounts import phones
from portal.core import clock


@pytest.fixture
def phone_only(app):
    saved = app.config["SIGN_IN_METHODS"]
    app.config["SIGN_IN_METHODS"] = ("phone",)
    yield
    app.config["SIGN_IN_METHODS"] = saved


def test_an_account_without_a_number_may_not_take_part(
    app, db, make_proposal, make_user, community, category, phone_only
):
    from portal.deliberation import services as deliberation
    from portal.proposals import services as proposals

    p = make_proposal()
    user = make_user(community=community)
    with app.test_request_context("/"):
        for attempt in (
            lambda: proposals.support(user, p),
            lambda: deliberation.add_comment(user, p, "我也同意", "for"),
            lambda: proposals.create(
                user,
                community,
                title="周末门诊",
                summary="周末",
                body="周末开放半天。",
                category=category,
                submit=False,
            ),
        ):
            with pytest.raises(phones.PhoneError) as err:
                attempt()
            assert err.value.code == "phone_required" and err.value.status == 403
        user.phone, user.phone_verified_at = "+8613912345678", clock.now()
        assert proposals.support(user, p) >= 1


def test_the_api_support_says_a_number_is_needed(
    client, make_proposal, make_user, community, api_token, phone_only
):
    p = make_proposal()
    headers = api_token(make_user(community=community))
    r = client.post(f"/api/v1/proposals/{p.id}/support", headers=headers)
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "phone_required"


def test_with_email_allowed_an_email_account_takes_part(
    client, make_proposal, make_user, community, api_token
):
    p = make_proposal()
    headers = api_token(make_user(community=community))
    assert client.post(f"/api/v1/proposals/{p.id}/support", headers=headers).status_code == 201


def test_with_a_verified_number_the_api_support_goes_through(
    client, make_proposal, api_token, phone_only
):
    # resident2 of the demo has +86 138 0013 8022: on PostgreSQL the one-statement support,
    # with the number's condition in it, stores it.
    p = make_proposal()
    before = p.support_count
    headers = api_token("resident2")
    r = client.post(f"/api/v1/proposals/{p.id}/support", headers=headers)
    assert r.status_code == 201 and r.get_json()["support_count"] == before + 1
