"""API base: tokens, accounts, me, the error and status rules, cookie vs bearer."""

from __future__ import annotations

import re

from portal.accounts.models import User
from portal.notifications.models import OutboxMessage
from tests.conftest import DEMO_PASSWORD

GOOD = "plum tree lantern 42 harbour"


def test_token_lifecycle(client):
    r = client.post(
        "/api/v1/auth/token", json={"email": "resident1@example.org", "password": DEMO_PASSWORD}
    )
    assert r.status_code == 201
    token = r.get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    me = client.get("/api/v1/me", headers=headers).get_json()
    assert me["residency"] == {"status": "confirmed", "community_code": "110101001001"}
    assert me["roles"] == [] and me["locale"] in ("zh_Hans", "en")
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 204
    r = client.get("/api/v1/me", headers=headers)
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "invalid_token"


def test_invalid_credentials_answer_alike(client):
    a = client.post(
        "/api/v1/auth/token", json={"email": "resident1@example.org", "password": "wrong password!"}
    )
    b = client.post(
        "/api/v1/auth/token", json={"email": "nobody@example.org", "password": "wrong password!"}
    )
    assert a.status_code == b.status_code == 401
    assert a.get_json() == b.get_json()
    assert a.get_json()["error"]["code"] == "invalid_credentials"


def test_token_validation(client):
    for payload in ({}, {"email": "a@example.org"}, {"email": 1, "password": 2}):
        r = client.post("/api/v1/auth/token", json=payload)
        assert r.status_code == 400 and r.get_json()["error"]["fields"], payload
    r = client.post("/api/v1/auth/token", data="[1,2]", content_type="application/json")
    assert r.status_code == 400


def test_token_endpoint_is_rate_limited(client, app):
    app.config["LOGIN_LIMIT"] = "2 per minute"
    try:
        codes = [
            client.post(
                "/api/v1/auth/token", json={"email": "x@example.org", "password": "nope"}
            ).status_code
            for _ in range(3)
        ]
    finally:
        app.config["LOGIN_LIMIT"] = "10 per minute;50 per hour"
    assert codes == [401, 401, 429]


def test_register_through_the_api(client, db):
    r = client.post(
        "/api/v1/accounts",
        json={"email": "api.user@example.org", "display_name": "接口用户", "locale": "en"},
    )
    assert r.status_code == 202 and r.get_json()["status"] == "check_mail"
    mail = db.session.scalar(
        db.select(OutboxMessage).where(OutboxMessage.to_address == "api.user@example.org")
    )
    assert mail.kind == "confirm_email" and "/register/" in mail.body
    assert db.session.scalar(db.select(User).where(User.email == "api.user@example.org")) is None
    # The mailed link's page (in a browser) sets the password and creates the account.
    link = re.search(r"https?://[^/]+(/register/\S+)", mail.body).group(1)
    browser = client.application.test_client()
    done = browser.form(link, {"password": GOOD, "confirm": GOOD}, page=link)
    assert done.status_code == 302
    user = db.session.scalar(db.select(User).where(User.email == "api.user@example.org"))
    assert user.display_name == "接口用户" and user.locale == "en" and user.email_confirmed
    token = client.post(
        "/api/v1/auth/token", json={"email": "api.user@example.org", "password": GOOD}
    )
    assert token.status_code == 201
    # An address with an account gets the same answer; its owner gets a note.
    again = client.post(
        "/api/v1/accounts",
        json={"email": "Resident1@example.org", "display_name": "又一个"},
    )
    assert again.status_code == 202 and again.get_json() == r.get_json()
    note = db.session.scalar(
        db.select(OutboxMessage).where(OutboxMessage.to_address == "resident1@example.org")
    )
    assert note.kind == "register_existing"


def test_register_validation_reports_each_field(client):
    r = client.post(
        "/api/v1/accounts",
        json={"email": "bad", "display_name": "", "locale": "fr"},
    )
    assert r.status_code == 400
    fields = r.get_json()["error"]["fields"]
    assert set(fields) == {"email", "display_name", "locale"}


def test_register_through_the_api_refuses_a_password(client, db):
    """The password is chosen on the mailed link's page, so the link need not carry it; a
    client that sends one is told so rather than left to believe it is set."""
    r = client.post(
        "/api/v1/accounts",
        json={"email": "ok@example.org", "password": GOOD, "display_name": "接口用户"},
    )
    assert r.status_code == 400
    assert set(r.get_json()["error"]["fields"]) == {"password"}
    assert not db.session.scalars(
        db.select(OutboxMessage).where(OutboxMessage.to_address == "ok@example.org")
    ).all()


def test_unsafe_api_requests_ignore_the_cookie(client, login_as):
    """A signed-in browser's cookie never authorizes a state change on the API (no CSRF)."""
    login_as("resident")
    assert client.get("/api/v1/me").status_code == 200  # reading with the cookie is fine
    r = client.post("/api/v1/notifications/read", json={"all": True})
    assert r.status_code == 401


def test_bearer_requests_need_no_csrf_token(client, api_token):
    r = client.post("/api/v1/notifications/read", json={"all": True}, headers=api_token("resident"))
    assert r.status_code == 200


def test_garbage_bearer_token_is_401(client):
    for header in ("Bearer nonsense", "Bearer ", "Basic abc"):
        r = client.get("/api/v1/me", headers={"Authorization": header})
        assert r.status_code == 401, header


def test_expired_token_is_refused(client, api_token, app):
    from datetime import timedelta

    from portal.core import clock

    headers = api_token("resident")
    clock.freeze(clock.now() + timedelta(days=app.config["API_TOKEN_DAYS"] + 1))
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_openapi_document_is_valid_and_complete(client, app):
    from openapi_spec_validator import validate

    doc = client.get("/api/v1/openapi.json").get_json()
    validate(doc)
    assert doc["openapi"].startswith("3.1")
    import re

    shape = lambda p: re.sub(r"\{[^}]+\}", "{}", p)  # noqa: E731 - parameter names may differ
    documented = {
        (shape(path), method.upper()) for path, ops in doc["paths"].items() for method in ops
    }
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        path = shape(re.sub(r"<(?:\w+:)?\w+>", "{}", rule.rule))
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method) in documented, f"{method} {path} is not documented"
    for path, ops in doc["paths"].items():
        for op in ops.values():
            if op.get("requestBody") or op.get("security"):
                assert set(op["responses"]) & {"400", "401"}, path
    assert "429" in doc["paths"]["/api/v1/auth/token"]["post"]["responses"]


def test_openapi_request_side_is_what_the_models_accept(app):
    """The committed document is the generated one (``python tools/openapi.py`` rewrites it)."""
    from portal.api.openapi import build, dumps, load

    assert dumps(build(app, load())) == dumps(load()), "run python tools/openapi.py"
    doc = load()
    review = doc["paths"]["/api/v1/proposals/{id}/review"]["post"]
    assert review["parameters"][0]["schema"]["maximum"] == 2**31 - 1
    assert review["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Review"
    }
    dup = doc["components"]["schemas"]["Review"]["properties"]["duplicate_of"]
    assert {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}.items() <= dup["anyOf"][
        0
    ].items()
    read = doc["components"]["schemas"]["MarkRead"]["properties"]["ids"]
    assert read["maxItems"] == 100
