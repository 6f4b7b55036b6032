"""The staff second factor: sign-in waits for the TOTP (or a recovery code), each code is
taken once, staff sessions that have not passed it can only enrol or verify, residents are
unaffected; the API's ``otp``; re-authentication before sensitive changes; the list of
sessions."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
import sqlalchemy as sa

from portal.accounts.models import RecoveryCode, User, UserSession
from portal.core import clock
from portal.demo import DEMO_TOTP_SECRET, PASSWORD
from portal.notifications.models import Notification, OutboxMessage
from tests.conftest import user_by_email

COMMITTEE = "committee@example.org"
QUEUE = "/communities/110101001001/residency"  # a committee page
STEP = 30


def code(offset_steps: int = 0) -> str:
    """The demo secret's code, ``offset_steps`` steps from now (the server's subclass of
    pyotp's TOTP: pyotp alone refuses an 80-bit secret)."""
    from portal.accounts.mfa import _TOTP

    return _TOTP(DEMO_TOTP_SECRET).at(clock.now().timestamp() + offset_steps * STEP)


@pytest.fixture(autouse=True)
def frozen_clock():
    """Mid-step, so that a test never straddles a step boundary."""
    now = clock.now()
    clock.freeze(now.replace(second=10 if now.second < 30 else 40, microsecond=0))
    yield
    clock.freeze(None)


def password_step(client, email=COMMITTEE, password=PASSWORD):
    return client.form("/login", {"email": email, "password": password})


def second_step(client, answer: str):
    return client.form("/login/two-factor", {"code": answer})


def signed_in(client) -> bool:
    return client.get("/account").status_code == 200


def test_staff_sign_in_waits_for_the_code(client, db):
    r = password_step(client)
    assert r.status_code == 302 and r.headers["Location"].endswith("/login/two-factor")
    assert not signed_in(client)  # no session before the second step
    page = client.get("/login/two-factor").get_data(as_text=True)
    assert "authenticator" in page or "身份验证器" in page
    r = second_step(client, "000000" if code() != "000000" else "111111")
    assert r.status_code == 401
    assert not signed_in(client)
    r = second_step(client, code())
    assert r.status_code == 302
    assert signed_in(client)
    assert client.get(QUEUE).status_code == 200
    user = user_by_email(COMMITTEE)
    row = db.session.scalar(sa.select(UserSession).where(UserSession.user_id == user.id))
    assert row.second_factor_at is not None


def test_each_code_signs_in_once_and_older_codes_are_refused(app, db):
    first, second, third = (app.test_client() for _ in range(3))
    password_step(first)
    assert second_step(first, code()).status_code == 302
    password_step(second)
    assert second_step(second, code()).status_code == 401  # the same code again
    assert second_step(second, code(-1)).status_code == 401  # older than the last one taken
    assert second_step(second, code(+1)).status_code == 302  # the next step's, within the window
    password_step(third)
    assert second_step(third, code(+2)).status_code == 401  # outside the window
    clock.freeze(clock.now() + timedelta(seconds=STEP))
    assert second_step(third, code(+1)).status_code == 302


def test_a_clock_put_back_does_not_shut_staff_out(app, db):
    later, now = app.test_client(), app.test_client()
    real = clock.now()
    clock.freeze(real + timedelta(days=10))  # a clock that ran ahead
    password_step(later)
    assert second_step(later, code()).status_code == 302
    clock.freeze(real)  # corrected
    password_step(now)
    assert second_step(now, code()).status_code == 302
    again = app.test_client()
    password_step(again)
    assert second_step(again, code()).status_code == 401  # once only, as ever


def test_a_recovery_code_signs_in_once(app, client, db, login_as):
    user = user_by_email(COMMITTEE)
    from portal.accounts import mfa

    with app.test_request_context("/"):
        codes = mfa.new_recovery_codes(user)
        db.session.commit()
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = db.session.scalars(
        sa.select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id)
    ).all()
    assert codes[0] not in stored and len(stored) == 10  # only hashes
    password_step(client)
    assert second_step(client, codes[0].upper()).status_code == 302
    other = app.test_client()
    password_step(other)
    assert second_step(other, codes[0]).status_code == 401


def test_the_pending_sign_in_expires(client, db):
    password_step(client)
    token = client.csrf_token("/login/two-factor")
    clock.freeze(clock.now() + timedelta(minutes=6))
    r = client.post("/login/two-factor", data={"csrf_token": token, "code": code()})
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    assert "two-factor" not in r.headers["Location"]
    assert not signed_in(client)


def test_residents_sign_in_in_one_step(client):
    r = password_step(client, "resident1@example.org")
    assert r.status_code == 302 and "two-factor" not in r.headers["Location"]
    assert signed_in(client)


def test_staff_without_a_second_factor_can_only_enrol(app, client, db, make_user):
    from portal.roles.models import Role
    from portal.roles.services import grant

    user = make_user(email="new.staff@example.org")
    user.password_hash = user_by_email(COMMITTEE).password_hash
    with app.test_request_context("/"):
        grant(None, user, Role.committee, "110101001001")
    db.session.commit()
    r = password_step(client, user.email)
    assert r.status_code == 302  # signed in, but only to enrol
    for path in (QUEUE, "/account", "/"):
        r = client.get(path)
        assert r.status_code == 302 and "/account/two-factor" in r.headers["Location"], path
    page = client.get("/account/two-factor").get_data(as_text=True)
    assert "<svg" in page  # the QR code, drawn here
    secret = re.search(r'class="secret"[^>]*>([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    r = client.form("/account/two-factor", {"code": "123456"}, page="/account/two-factor")
    if pyotp.TOTP(secret).at(clock.now().timestamp()) != "123456":
        assert r.status_code == 400
    r = client.form(
        "/account/two-factor",
        {"code": pyotp.TOTP(secret).at(clock.now().timestamp())},
        page="/account/two-factor",
    )
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    shown = re.findall(r"<code>([a-z0-9]{5}-[a-z0-9]{5})</code>", r.get_data(as_text=True))
    assert len(shown) == 10
    assert client.get(QUEUE).status_code == 200
    db.session.refresh(user)
    assert user.totp_secret == secret and user.mfa_enabled
    # From now on, signing in asks for the code.
    other = app.test_client()
    r = password_step(other, user.email)
    assert r.headers["Location"].endswith("/login/two-factor")


def test_a_session_without_the_second_step_is_sent_to_verify(client, login_as):
    login_as("committee", second_factor=False)  # a role granted during the session, say
    r = client.get(QUEUE)
    assert r.status_code == 302 and "/login/two-factor" in r.headers["Location"]
    r = client.post(QUEUE, json={})
    assert r.status_code in (302, 400, 403)
    assert client.get("/api/v1/me").status_code == 401  # the API by cookie sees nobody
    r = client.form("/login/two-factor", {"code": code()}, page="/login/two-factor")
    assert r.status_code == 302
    assert client.get(QUEUE).status_code == 200


def test_wrong_codes_notify_the_owner_and_then_wait(app, client, db, monkeypatch):
    user = user_by_email(COMMITTEE)
    password_step(client)
    wrong = "000000" if code() != "000000" else "111111"
    for _ in range(5):
        assert second_step(client, wrong).status_code == 401
    notices = db.session.scalar(
        sa.select(sa.func.count(Notification.id)).where(
            Notification.user_id == user.id, Notification.type == "second_factor_failures"
        )
    )
    assert notices == 1
    mail = db.session.scalar(
        sa.select(OutboxMessage).where(
            OutboxMessage.user_id == user.id, OutboxMessage.kind == "second_factor_failures"
        )
    )
    assert mail is not None and "/reset" in mail.body
    r = second_step(client, code())
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0


# --- API -------------------------------------------------------------------------------------


def token(client, otp=None, email=COMMITTEE):
    body = {"email": email, "password": PASSWORD}
    if otp is not None:
        body["otp"] = otp
    return client.post("/api/v1/auth/token", json=body)


def test_the_api_asks_staff_for_the_code_once(client):
    r = token(client)
    assert r.status_code == 401 and r.json["error"]["code"] == "otp_required"
    wrong = "000000" if code() != "000000" else "111111"
    r = token(client, wrong)
    assert r.status_code == 401 and r.json["error"]["code"] == "invalid_otp"
    r = token(client, code())
    assert r.status_code == 201
    headers = {"Authorization": f"Bearer {r.json['token']}"}
    me = client.get("/api/v1/me", headers=headers)
    assert me.status_code == 200 and me.json["mfa_enabled"] is True
    r = token(client, code())
    assert r.status_code == 401 and r.json["error"]["code"] == "invalid_otp"


def test_residents_need_no_code_and_report_no_mfa(client):
    r = token(client, email="resident1@example.org")
    assert r.status_code == 201
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {r.json['token']}"})
    assert me.json["mfa_enabled"] is False


def test_a_staff_token_without_the_second_factor_signs_nobody_in(app, client, db):
    from portal.accounts.services import issue_token

    with app.test_request_context("/"):
        raw, _t = issue_token(user_by_email(COMMITTEE))  # issued before the role, say
        db.session.commit()
    r = client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
    assert r.status_code == 401 and r.json["error"]["code"] == "otp_required"


# --- re-authentication -----------------------------------------------------------------------


def test_changing_the_number_or_roles_asks_to_confirm_first(client, login_as):
    login_as("admin", fresh=False)
    r = client.get("/admin/roles")
    assert r.status_code == 302 and "/account/confirm" in r.headers["Location"]
    r = client.form("/account/phone", {"ph-phone": "13912345678"}, page="/account")
    assert r.status_code == 302 and "/account/confirm" in r.headers["Location"]
    r = client.form("/account/confirm?next=/admin/roles", {"secret": "not the password"})
    assert r.status_code == 401
    r = client.form("/account/confirm?next=/admin/roles", {"secret": PASSWORD})
    assert r.status_code == 302 and r.headers["Location"].endswith("/admin/roles")
    assert client.get("/admin/roles").status_code == 200
    clock.freeze(clock.now() + timedelta(minutes=6))
    assert client.get("/admin/roles").status_code == 302  # a few minutes only


def test_the_authenticator_code_confirms_too(client, login_as):
    login_as("admin", fresh=False)
    r = client.form("/account/confirm?next=/admin/roles", {"secret": code()})
    assert r.status_code == 302 and r.headers["Location"].endswith("/admin/roles")


# --- sessions --------------------------------------------------------------------------------


def test_sessions_are_listed_and_signed_out(app, client, db, login_as):
    phone = app.test_client()
    r = phone.post(
        "/login",
        data={
            "csrf_token": phone.csrf_token("/login"),
            "email": "resident1@example.org",
            "password": PASSWORD,
        },
        headers={"User-Agent": "Mozilla/5.0 (Linux; Android 14) Chrome/120.0 Mobile Safari/537"},
        environ_base={"REMOTE_ADDR": "203.0.113.77"},
    )
    assert r.status_code == 302 and signed_in(phone)
    login_as("resident")
    page = client.get("/account/sessions").get_data(as_text=True)
    assert "Chrome / Android" in page and "203.0.113.x" in page
    assert "203.0.113.77" not in page
    ref = re.search(r'action="/account/sessions/([^/"]+)/end"', page).group(1)
    user = user_by_email("resident1@example.org")
    sids = db.session.scalars(sa.select(UserSession.id).where(UserSession.user_id == user.id))
    assert all(sid not in page for sid in sids)  # the page never shows a session's id
    r = client.form(f"/account/sessions/{ref}/end", page="/account/sessions")
    assert r.status_code == 302
    assert not signed_in(phone)  # on its very next request
    assert signed_in(client)


def test_sign_out_everywhere_else_keeps_this_one(app, client, login_as):
    other = app.test_client()
    login_as("resident", other)
    login_as("resident")
    r = client.form("/account/sessions/end-others", page="/account/sessions")
    assert r.status_code == 302
    assert signed_in(client) and not signed_in(other)


def test_another_persons_session_cannot_be_ended(app, client, db, login_as):
    other = app.test_client()
    login_as("resident2", other)
    login_as("resident")
    from portal.accounts.security_views import handle

    victim = user_by_email("resident2@example.org")
    sid = db.session.scalar(sa.select(UserSession.id).where(UserSession.user_id == victim.id))
    client.form(f"/account/sessions/{handle(sid)}/end", page="/account/sessions")
    assert signed_in(other)


def test_the_demo_enrols_staff_with_the_documented_secret(db):
    committee = user_by_email(COMMITTEE)
    resident = user_by_email("resident1@example.org")
    assert committee.totp_secret == DEMO_TOTP_SECRET and committee.mfa_enabled
    assert resident.totp_secret is None and not resident.mfa_enabled
    assert (
        db.session.scalar(
            sa.select(sa.func.count(User.id)).where(User.totp_enabled_at.is_not(None))
        )
        >= 5
    )


def test_staff_signing_in_by_number_send_the_code_too(client, db):
    from tests.accounts.test_phone import last_code

    phone = "+8613800138001"  # the demo committee member's
    assert client.post("/api/v1/auth/sms-code", json={"phone": phone}).status_code == 202
    sms = last_code(db, phone)
    r = client.post("/api/v1/auth/token", json={"phone": phone, "code": sms})
    assert r.status_code == 401 and r.json["error"]["code"] == "otp_required"
    # Nothing was spent: the same text's code works once the otp comes along.
    r = client.post("/api/v1/auth/token", json={"phone": phone, "code": sms, "otp": code()})
    assert r.status_code == 200


def test_staff_signing_in_by_number_on_the_web_get_the_second_step(client, db):
    from tests.accounts.test_phone import last_code

    phone = "+8613800138001"
    client.form("/login/code", {"phone": "138 0013 8001"}, page="/login")
    r = client.form("/login/verify", {"phone": phone, "code": last_code(db, phone)}, page="/login")
    assert r.status_code == 302 and r.headers["Location"].endswith("/login/two-factor")
    assert not signed_in(client)
    assert second_step(client, code()).status_code == 302
    assert signed_in(client)


def test_the_scripts_codes_are_the_servers():
    """tools/totp_code.py (standard library, for scripts) and pyotp agree, and pyotp still
    takes the demo's 80-bit secret through its documented class attribute."""
    from portal.accounts.mfa import _TOTP
    from tools.totp_code import code_at

    step = int(clock.now().timestamp()) // STEP
    for s in (step - 1, step, step + 1):
        assert code_at(DEMO_TOTP_SECRET, s) == _TOTP(DEMO_TOTP_SECRET).at(s * STEP)
    with pytest.raises(ValueError):
        pyotp.TOTP(DEMO_TOTP_SECRET).now()  # why the subclass exists


# --- an administrator's reset ----------------------------------------------------------------


def test_an_admin_resets_a_lost_second_factor(app, client, db, login_as):
    from portal.audit.models import AuditEntry

    staff = app.test_client()
    login_as("committee", staff)
    assert staff.get(QUEUE).status_code == 200
    user = user_by_email(COMMITTEE)
    from portal.accounts import mfa

    with app.test_request_context("/"):
        mfa.new_recovery_codes(user)
        db.session.commit()
    admin = login_as("admin")
    page = client.get("/admin/two-factor")
    assert page.status_code == 200
    r = client.form("/admin/two-factor", {"person": COMMITTEE, "confirm": "y"})
    assert r.status_code == 302, r.get_data(as_text=True)
    db.session.refresh(user)
    assert user.totp_secret is None and user.totp_enabled_at is None and not user.mfa_enabled
    assert db.session.scalar(sa.select(sa.func.count()).where(RecoveryCode.user_id == user.id)) == 0
    # Signed out everywhere: the old session sees nobody.
    r = staff.get(QUEUE)
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    entry = db.session.scalar(
        sa.select(AuditEntry).where(AuditEntry.action == "second_factor.reset")
    )
    assert entry.actor_id == admin.id and entry.subject_id == str(user.id)
    assert db.session.scalar(
        sa.select(Notification).where(
            Notification.user_id == user.id, Notification.type == "second_factor_reset"
        )
    )
    assert db.session.scalar(
        sa.select(OutboxMessage).where(
            OutboxMessage.user_id == user.id, OutboxMessage.kind == "second_factor_reset"
        )
    )
    # The next sign-in is one step, then only to enrol again.
    fresh = app.test_client()
    r = password_step(fresh)
    assert r.status_code == 302 and "two-factor" not in r.headers["Location"]
    r = fresh.get(QUEUE)
    assert r.status_code == 302 and "/account/two-factor" in r.headers["Location"]


def test_the_reset_refuses_at_its_fields_and_keeps_the_input(client, db, login_as):
    admin = login_as("admin")
    admin.locale = "en"
    db.session.commit()
    cases = [
        ({"person": "", "confirm": "y"}, "Enter the person"),
        ({"person": "nobody@example.org", "confirm": "y"}, "No account has"),
        ({"person": "admin@example.org", "confirm": "y"}, "your own two-step"),
        ({"person": "resident1@example.org", "confirm": "y"}, "has not set up"),
        ({"person": COMMITTEE}, "Confirm that you have checked"),
    ]
    for data, message in cases:
        r = client.form("/admin/two-factor", data)
        html = r.get_data(as_text=True)
        assert r.status_code == 400, data
        assert message in html, (data, html[-3000:])
        if data["person"]:
            assert f'value="{data["person"]}"' in html
    assert user_by_email(COMMITTEE).mfa_enabled  # nothing was reset on the way


def test_the_reset_asks_the_admin_to_confirm_first(client, login_as):
    login_as("admin", fresh=False)
    r = client.get("/admin/two-factor")
    assert r.status_code == 302 and "/account/confirm" in r.headers["Location"]
