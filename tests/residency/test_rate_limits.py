"""Residency requests and invitation codes share one rate limit per person and one per
address, on the web and the API alike: a code is not to be guessed."""

from __future__ import annotations

A = "203.0.113.30"


def _web_code(client, token, code="WRONG-CODE", address=A):
    return client.post(
        "/residency/invitation",
        data={"csrf_token": token, "invite-invitation_code": code},
        environ_base={"REMOTE_ADDR": address},
    )


def _api_code(client, headers, code="WRONG-CODE", address=A):
    return client.post(
        "/api/v1/residency",
        json={"invitation_code": code},
        headers=headers,
        environ_base={"REMOTE_ADDR": address},
    )


def _web_ask(client, token, address=A):
    return client.post(
        "/residency/request",
        data={"csrf_token": token, "join-community_code": "110101001001"},
        environ_base={"REMOTE_ADDR": address},
    )


def test_requests_and_codes_per_person(app, client, login_as, api_token, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "RESIDENCY_REQUEST_LIMIT", "3 per minute")
    user = login_as(make_user())
    token = client.csrf_token("/residency")
    assert _web_code(client, token).status_code == 400
    assert _api_code(client, api_token(user), address="198.51.100.1").status_code == 400
    assert _web_ask(client, token, "198.51.100.2").status_code == 302
    r = _web_ask(client, token, "198.51.100.3")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    assert "text/html" in r.content_type
    r = _api_code(client, api_token(user), address="198.51.100.4")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    assert r.get_json()["error"]["code"] == "rate_limited"
    # Someone else at the same address is not affected.
    assert _api_code(client, api_token(make_user())).status_code == 400


def test_codes_per_address(app, client, api_token, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "RESIDENCY_REQUEST_IP_LIMIT", "2 per minute")
    assert _api_code(client, api_token(make_user())).status_code == 400
    assert _api_code(client, api_token(make_user())).status_code == 400
    r = _api_code(client, api_token(make_user()))
    assert r.status_code == 429 and r.get_json()["error"]["code"] == "rate_limited"
    assert int(r.headers["Retry-After"]) > 0
    assert _api_code(client, api_token(make_user()), address="198.51.100.1").status_code == 400
