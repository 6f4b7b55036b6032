"""Failed sign-ins: counted per address (web and API together) and per (account, address);
never a lock that keeps the owner out; the owner hears of them once per window."""

from __future__ import annotations

import pytest
from werkzeug.security import generate_password_hash

from portal.notifications.models import Notification, OutboxMessage

PASSWORD = "plum tree lantern 42 harbour"
A, B = "203.0.113.7", "198.51.100.9"


@pytest.fixture
def owner(make_user, db):
    """An account whose hash is cheap to check, so a test can fail a hundred times quickly."""
    user = make_user(email="owner@example.org")
    user.password_hash = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1")
    db.session.commit()
    return user


def api_sign_in(client, email, password, address):
    return client.post(
        "/api/v1/auth/token",
        json={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def web_sign_in(client, email, password, address):
    token = client.csrf_token("/login")
    return client.post(
        "/login",
        data={"csrf_token": token, "email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def retry_after(response) -> int:
    return int(response.headers["Retry-After"])


def test_the_owner_signs_in_after_a_hundred_failures_from_elsewhere(
    app, client, owner, monkeypatch
):
    # The attacker's address may fail as often as it likes, to push the account past its cap.
    monkeypatch.setitem(app.config, "LOGIN_LIMIT", "1000 per hour")
    monkeypatch.setitem(app.config, "LOGIN_FAILURES_PER_ACCOUNT_IP", "1000 per hour")
    for _ in range(100):  # LOGIN_FAILURES_PER_ACCOUNT
        assert api_sign_in(client, owner.email, "wrong wrong wrong", A).status_code == 401
    for _ in range(5):  # the address that failed is turned away now, with a time to return
        r = api_sign_in(client, owner.email, "wrong wrong wrong", A)
        assert r.status_code == 429 and 0 < retry_after(r) <= 3600

    r = web_sign_in(app.test_client(), owner.email, PASSWORD, B)
    assert r.status_code == 302
    assert api_sign_in(client, owner.email, PASSWORD, B).status_code == 201

    # The address that failed is turned away while the account is past its cap, even with
    # the password, and is told when to come back.
    r = api_sign_in(client, owner.email, PASSWORD, A)
    assert r.status_code == 429 and r.get_json()["error"]["code"] == "rate_limited"
    assert 0 < retry_after(r) <= 3600


def test_an_address_past_its_failures_for_an_account_waits(app, client, owner):
    for _ in range(5):  # LOGIN_FAILURES_PER_ACCOUNT_IP: 5 per minute
        assert api_sign_in(client, owner.email, "wrong wrong wrong", A).status_code == 401
    r = api_sign_in(client, owner.email, PASSWORD, A)
    assert r.status_code == 429 and r.get_json()["error"]["code"] == "rate_limited"
    assert 0 < retry_after(r) <= 60
    r = web_sign_in(client, owner.email, PASSWORD, A)
    assert r.status_code == 429 and 0 < retry_after(r) <= 60
    assert 'id="password-error"' in r.get_data(as_text=True)
    # Another address is not affected.
    assert web_sign_in(client, owner.email, PASSWORD, B).status_code == 302


def test_web_and_api_share_one_budget_per_address(app, client, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_LIMIT", "4 per minute")
    emails = [make_user().email for _ in range(4)]
    assert web_sign_in(client, emails[0], "wrong wrong wrong", A).status_code == 200
    assert api_sign_in(client, emails[1], "wrong wrong wrong", A).status_code == 401
    assert web_sign_in(client, emails[2], "wrong wrong wrong", A).status_code == 200
    assert api_sign_in(client, emails[3], "wrong wrong wrong", A).status_code == 401

    r = api_sign_in(client, emails[0], "wrong wrong wrong", A)
    assert r.status_code == 429 and r.get_json()["error"]["code"] == "rate_limited"
    assert 0 < retry_after(r) <= 60
    r = web_sign_in(client, emails[1], "wrong wrong wrong", A)
    assert r.status_code == 429 and 0 < retry_after(r) <= 60
    assert api_sign_in(client, emails[0], "wrong wrong wrong", B).status_code == 401


def test_signing_in_spends_no_failures(app, client, owner, monkeypatch):
    """Many households share an address: those who sign in correctly are never counted."""
    monkeypatch.setitem(app.config, "LOGIN_LIMIT", "2 per minute")
    for _ in range(4):
        assert api_sign_in(client, owner.email, PASSWORD, A).status_code == 201
        assert web_sign_in(app.test_client(), owner.email, PASSWORD, A).status_code == 302


def test_the_owner_hears_of_failed_sign_ins_once(app, client, owner, db, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_LIMIT", "1000 per hour")
    addresses = [f"192.0.2.{i}" for i in range(1, 6)]
    for i in range(4):  # below LOGIN_FAILURE_ALERT_AFTER: a typo or two tells no one
        api_sign_in(client, owner.email, "wrong wrong wrong", addresses[i])
    assert _notices(db, owner) == (0, 0)
    for i in range(20):
        if i % 2:
            web_sign_in(client, owner.email, "wrong wrong wrong", addresses[i % 5])
        else:
            api_sign_in(client, owner.email, "wrong wrong wrong", addresses[i % 5])
    assert _notices(db, owner) == (1, 1)
    mail = db.session.scalar(db.select(OutboxMessage).where(OutboxMessage.user_id == owner.id))
    assert mail.to_address == owner.email and "/reset" in mail.body
    login_as_owner = web_sign_in(client, owner.email, PASSWORD, B)
    assert login_as_owner.status_code == 302
    html = client.get("/notifications").get_data(as_text=True)
    assert "wrong password" in html or "密码" in html


def _notices(db, user) -> tuple[int, int]:
    count = db.func.count
    notes = db.session.scalar(
        db.select(count(Notification.id)).where(
            Notification.user_id == user.id, Notification.type == "login_failures"
        )
    )
    mails = db.session.scalar(
        db.select(count(OutboxMessage.id)).where(
            OutboxMessage.user_id == user.id, OutboxMessage.kind == "login_failures"
        )
    )
    return notes, mails
