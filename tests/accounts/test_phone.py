"""Signing in and registering with a mobile number and an SMS code: numbers, codes, caps, the
API, the pages, changing one's number, and the rule that phone-only sites ask for a number."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.accounts import phones
from portal.accounts.models import SmsCode, User
from portal.core import clock
from portal.notifications.models import OutboxMessage

NEW = "+8613912345678"
DEMO_RESIDENT = "+8613800138021"  # resident1@example.org


def last_code(db, phone: str) -> str:
    body = db.session.scalar(
        sa.select(OutboxMessage.body)
        .where(OutboxMessage.to_address == phone)
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    )
    assert body, f"no text to {phone}"
    return re.search(r"\b(\d{6})\b", body).group(1)


@pytest.fixture
def frozen():
    at = clock.now().replace(microsecond=0)
    clock.freeze(at)
    return at


def later(seconds: float) -> None:
    clock.freeze(clock.now() + timedelta(seconds=seconds))


# --- numbers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "13912345678",
        "+8613912345678",
        "+86 139 1234 5678",
        "139-1234-5678",
        "0086 13912345678",
        "86 139 1234 5678",
        " 139 1234 5678 ",
    ],
)
def test_mainland_numbers_are_stored_as_e164(raw):
    assert phones.normalize_phone(raw) == NEW


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "12912345678",
        "1391234567",
        "139123456789",
        "+1 415 555 0100",
        "+852 9123 4567",
        "１３９１２３４５６７８",
        "1391234567x",
        "<script>",
    ],
)
def test_other_numbers_are_refused(raw):
    assert phones.normalize_phone(raw) is None


def test_staff_see_numbers_masked():
    assert phones.mask_phone(NEW) == "+86 139****5678"
    assert phones.display_phone(NEW) == "+86 139 1234 5678"


# --- sending codes ---------------------------------------------------------------------------


def test_sending_answers_the_same_for_a_known_and_an_unknown_number(client, db, frozen):
    known = client.post("/api/v1/auth/sms-code", json={"phone": "138 0013 8021"})
    unknown = client.post("/api/v1/auth/sms-code", json={"phone": "139 1234 5678"})
    assert known.status_code == unknown.status_code == 202
    assert known.get_json() == unknown.get_json() == {"status": "sent", "resend_after": 60}
    assert re.fullmatch(r"\d{6}", last_code(db, NEW))


def test_a_code_is_kept_only_as_an_hmac(client, db, frozen):
    client.post("/api/v1/auth/sms-code", json={"phone": NEW})
    code = last_code(db, NEW)
    row = db.session.scalar(sa.select(SmsCode).where(SmsCode.phone == NEW))
    assert code not in row.code_hmac and len(row.code_hmac) == 64
    assert row.expires_at - row.created_at == timedelta(minutes=5)


def test_an_invalid_number_is_refused(client):
    r = client.post("/api/v1/auth/sms-code", json={"phone": "12345"})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid_phone"


def test_a_new_code_waits_sixty_seconds(client, db, frozen):
    assert client.post("/api/v1/auth/sms-code", json={"phone": NEW}).status_code == 202
    later(20)
    r = client.post("/api/v1/auth/sms-code", json={"phone": NEW})
    assert r.status_code == 429 and r.get_json()["error"]["code"] == "too_soon"
    # The code's own wait (40 s), or the rate limiter's window where that ends later.
    assert int(r.headers["Retry-After"]) >= 40
    later(41)
    assert client.post("/api/v1/auth/sms-code", json={"phone": NEW}).status_code == 202


def _send(app, phone: str, ip: str):
    with app.test_request_context("/"):
        try:
            phones.send_code(phone, ip)
        except phones.PhoneError as err:
            return err
        return None


def test_caps_per_number_and_address_hour_and_day(app, db, frozen):
    for _i in range(5):
        assert _send(app, NEW, "10.0.0.1") is None
        later(61)
    err = _send(app, NEW, "10.0.0.1")
    assert err.code == "too_many" and err.status == 429 and int(err.headers["Retry-After"]) > 0
    # Somebody elsewhere is not stopped by this address's use of the number.
    assert _send(app, NEW, "10.0.0.2") is None
    later(3600)
    for _i in range(5):
        assert _send(app, NEW, "10.0.0.1") is None
        later(61)
    assert _send(app, NEW, "10.0.0.1").code == "too_many"  # ten a day
    later(3600)
    assert _send(app, NEW, "10.0.0.1").code == "too_many"


def test_the_number_has_a_ceiling_across_addresses(app, db, frozen):
    app.config["SMS_PER_NUMBER_DAY"], saved = 6, app.config["SMS_PER_NUMBER_DAY"]
    try:
        for n in range(6):
            assert _send(app, NEW, f"10.0.1.{n}") is None
            later(61)
        assert _send(app, NEW, "10.0.1.99").code == "too_many"
    finally:
        app.config["SMS_PER_NUMBER_DAY"] = saved


def test_a_provider_failure_is_a_clear_answer_and_can_be_retried(
    client, db, frozen, monkeypatch, caplog
):
    from portal.notifications import sms

    def refuse(self, message):
        raise sms.SmsDeliveryError("signature_rejected")

    monkeypatch.setattr(sms.ConsoleProvider, "send", refuse)
    r = client.post("/api/v1/auth/sms-code", json={"phone": NEW})
    assert r.status_code == 503 and r.get_json()["error"]["code"] == "sms_failed"
    assert "+86 139****5678" in caplog.text and "signature_rejected" in caplog.text
    assert NEW not in caplog.text
    assert db.session.scalar(sa.select(sa.func.count(SmsCode.id))) == 0  # nothing counted
    monkeypatch.undo()
    assert client.post("/api/v1/auth/sms-code", json={"phone": NEW}).status_code == 202


# --- signing in with a code (API) ------------------------------------------------------------


def _code(client, db, phone=NEW) -> str:
    assert client.post("/api/v1/auth/sms-code", json={"phone": phone}).status_code == 202
    return last_code(db, phone)


def test_a_new_number_needs_consent_then_becomes_an_account(client, db, frozen):
    code = _code(client, db)
    r = client.post("/api/v1/auth/token", json={"phone": NEW, "code": code})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "consent_required"
    assert db.session.scalar(sa.select(User).where(User.phone == NEW)) is None
    r = client.post("/api/v1/auth/token", json={"phone": NEW, "code": code, "accept_privacy": True})
    assert r.status_code == 200 and r.get_json()["new_account"] is True
    user = db.session.scalar(sa.select(User).where(User.phone == NEW))
    assert user.privacy_version and user.privacy_accepted_at == frozen
    assert user.email is None and user.password_hash is None
    me = client.get("/api/v1/me", headers={"Authorization": "Bearer " + r.get_json()["token"]})
    assert me.get_json()["phone"] == NEW and me.get_json()["email"] is None


def test_a_known_number_signs_in(client, db, frozen):
    code = _code(client, db, DEMO_RESIDENT)
    r = client.post("/api/v1/auth/token", json={"phone": "138-0013-8021", "code": code})
    assert r.status_code == 200 and r.get_json()["new_account"] is False
    me = client.get("/api/v1/me", headers={"Authorization": "Bearer " + r.get_json()["token"]})
    assert me.get_json()["email"] == "resident1@example.org"


def _token(client, phone, code, **extra):
    return client.post("/api/v1/auth/token", json={"phone": phone, "code": code, **extra})


def test_a_code_is_used_once(client, db, frozen):
    code = _code(client, db, DEMO_RESIDENT)
    assert _token(client, DEMO_RESIDENT, code).status_code == 200
    r = _token(client, DEMO_RESIDENT, code)
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "invalid_code"


def test_a_code_expires_after_five_minutes(client, db, frozen):
    code = _code(client, db, DEMO_RESIDENT)
    later(5 * 60 + 1)
    assert _token(client, DEMO_RESIDENT, code).get_json()["error"]["code"] == "invalid_code"


def test_five_wrong_tries_void_the_code(client, db, frozen):
    code = _code(client, db, DEMO_RESIDENT)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _i in range(5):
        r = _token(client, DEMO_RESIDENT, wrong)
        assert r.status_code == 401 and r.get_json()["error"]["code"] == "invalid_code"
    assert _token(client, DEMO_RESIDENT, code).status_code == 401


def test_a_code_is_for_its_number_only(client, db, frozen):
    code = _code(client, db, DEMO_RESIDENT)
    assert _token(client, "+8613800138022", code).status_code == 401


def test_a_newer_code_replaces_the_older(client, db, frozen):
    first = _code(client, db, DEMO_RESIDENT)
    later(61)
    second = _code(client, db, DEMO_RESIDENT)
    if first != second:
        assert _token(client, DEMO_RESIDENT, first).status_code == 401
    assert _token(client, DEMO_RESIDENT, second).status_code == 200


def test_the_token_body_takes_one_shape_or_the_other(client):
    for body in (
        {},
        {"phone": NEW},
        {"email": "a@example.org"},
        {"email": "a@example.org", "password": "x", "phone": NEW, "code": "123456"},
        {"email": "a@example.org", "password": "x", "accept_privacy": True},
    ):
        r = client.post("/api/v1/auth/token", json=body)
        assert r.status_code == 400, body
        assert r.get_json()["error"]["code"] == "validation_failed"
    r = client.post("/api/v1/auth/token", json={"phone": "555", "code": "123456"})
    assert r.get_json()["error"]["code"] == "invalid_phone"


def test_email_and_password_still_sign_in(client):
    r = client.post(
        "/api/v1/auth/token",
        json={"email": "resident1@example.org", "password": "commons-demo-2026"},
    )
    assert r.status_code == 201


def test_patch_me_changes_name_language_and_email(client, api_token, make_user, db):
    headers = api_token("resident")
    r = client.patch(
        "/api/v1/me", json={"display_name": "陈阿姨二号", "locale": "en"}, headers=headers
    )
    assert r.status_code == 200 and r.get_json()["display_name"] == "陈阿姨二号"
    assert r.get_json()["locale"] == "en"
    # A new address needs re-authentication: none, then a wrong password, then the right one.
    new = {"email": "new.address@example.org"}
    r = client.patch("/api/v1/me", json=new, headers=headers)
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "reauthentication_required"
    r = client.patch("/api/v1/me", json={**new, "password": "wrong-guess"}, headers=headers)
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "invalid_password"
    assert client.get("/api/v1/me", headers=headers).get_json()["email"] == "resident1@example.org"
    r = client.patch("/api/v1/me", json={**new, "password": "commons-demo-2026"}, headers=headers)
    assert r.get_json()["email"] == "new.address@example.org"
    assert r.get_json()["email_confirmed"] is False
    other = make_user()
    taken = {"email": other.email, "password": "commons-demo-2026"}
    r = client.patch("/api/v1/me", json=taken, headers=headers)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "email_taken"
    r = client.patch("/api/v1/me", json={}, headers=headers)
    assert r.status_code == 400


# --- the pages -------------------------------------------------------------------------------


def test_the_sign_in_page_asks_for_the_number_first(client):
    html = client.get("/login").get_data(as_text=True)
    assert html.index('name="phone"') < html.index('name="email"')


def test_sign_up_on_the_pages_without_script(client, db, frozen):
    r = client.form("/login/code", {"phone": "139 1234 5678"}, page="/login")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and 'name="code"' in html
    assert "60" in html and "+86 139 1234 5678" in html  # the countdown, as a sentence
    code = last_code(db, NEW)
    r = client.form("/login/verify", {"phone": NEW, "code": code}, page="/login")
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and 'id="accept_privacy-error"' in html
    assert f'value="{code}"' in html  # what was typed is kept
    r = client.form(
        "/login/verify", {"phone": NEW, "code": code, "accept_privacy": "y"}, page="/login"
    )
    assert r.status_code == 302 and r.headers["Location"].startswith("/welcome")
    r = client.form("/welcome", {"display_name": "新邻居"})
    assert r.status_code == 302
    user = db.session.scalar(sa.select(User).where(User.phone == NEW))
    assert user.display_name == "新邻居"


def test_pages_show_errors_at_the_field(client, db, frozen):
    r = client.form("/login/code", {"phone": "12345"}, page="/login")
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and 'id="phone-error"' in html and 'value="12345"' in html
    client.form("/login/code", {"phone": DEMO_RESIDENT}, page="/login")
    r = client.form("/login/code", {"phone": DEMO_RESIDENT}, page="/login")
    assert r.status_code == 429 and 'name="code"' in r.get_data(as_text=True)
    r = client.form("/login/verify", {"phone": DEMO_RESIDENT, "code": "000000"}, page="/login")
    assert r.status_code == 401 and 'id="code-error"' in r.get_data(as_text=True)


def test_the_privacy_notice_is_in_both_languages(client):
    zh = client.get("/privacy", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "隐私声明" in zh
    client.post("/language", data={"lang": "en"})
    en = client.get("/privacy?lang=en", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Privacy notice" in en


def test_changing_the_number_verifies_the_new_one(client, login_as, db, frozen, make_user):
    user = login_as(make_user())
    r = client.form("/account/phone", {"ph-phone": "139 1234 5678"}, page="/account")
    assert r.status_code == 200 and 'name="pc-code"' in r.get_data(as_text=True)
    code = last_code(db, NEW)
    r = client.form(
        "/account/phone/verify", {"pc-phone": NEW, "pc-code": "000000"}, page="/account"
    )
    if code != "000000":
        assert r.status_code == 401
    r = client.form("/account/phone/verify", {"pc-phone": NEW, "pc-code": code}, page="/account")
    assert r.status_code == 302
    db.session.refresh(user)
    assert user.phone == NEW and user.phone_verified_at is not None


def test_a_number_belongs_to_one_account(client, login_as, db, frozen, make_user):
    login_as(make_user())
    client.form("/account/phone", {"ph-phone": DEMO_RESIDENT}, page="/account")
    code = last_code(db, DEMO_RESIDENT)
    r = client.form(
        "/account/phone/verify", {"pc-phone": DEMO_RESIDENT, "pc-code": code}, page="/account"
    )
    assert r.status_code == 409 and "another account" in r.get_data(as_text=True).replace(
        "另一个账户", "another account"
    )
    # ... and the database says so too.
    other = make_user()
    other.phone, other.phone_verified_at = DEMO_RESIDENT, clock.now()
    with pytest.raises(sa.exc.IntegrityError), db.session.begin_nested():
        db.session.flush()


def test_a_sign_in_code_cannot_change_a_number(client, login_as, db, frozen, make_user):
    user = login_as(make_user())
    client.post("/api/v1/auth/sms-code", json={"phone": NEW})
    code = last_code(db, NEW)
    r = client.form("/account/phone/verify", {"pc-phone": NEW, "pc-code": code}, page="/account")
    assert r.status_code == 401
    db.session.refresh(user)
    assert user.phone is None


# --- which ways of signing in the site allows ------------------------------------------------


@pytest.fixture
def phone_only(app):
    saved = app.config["SIGN_IN_METHODS"]
    app.config["SIGN_IN_METHODS"] = ("phone",)
    yield
    app.config["SIGN_IN_METHODS"] = saved


def test_config_defaults_by_mode(monkeypatch):
    from portal.config import ConfigError, load_config

    monkeypatch.delenv("SIGN_IN_METHODS", raising=False)
    assert load_config({"COMMONS_ENV": "testing"})["SIGN_IN_METHODS"] == ("phone", "email")
    monkeypatch.setenv("SIGN_IN_METHODS", "email , phone")
    assert load_config({"COMMONS_ENV": "testing"})["SIGN_IN_METHODS"] == ("phone", "email")
    monkeypatch.setenv("SIGN_IN_METHODS", "phone")
    assert load_config({"COMMONS_ENV": "testing"})["SIGN_IN_METHODS"] == ("phone",)
    monkeypatch.setenv("SIGN_IN_METHODS", "carrier-pigeon")
    with pytest.raises(ConfigError):
        load_config({"COMMONS_ENV": "testing"})
    monkeypatch.delenv("SIGN_IN_METHODS")
    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    monkeypatch.setenv("PUBLIC_URL", "https://commons.example")
    assert load_config({"COMMONS_ENV": "production"})["SIGN_IN_METHODS"] == ("phone",)


def test_phone_only_sites_refuse_email_sign_in(client, phone_only):
    html = client.get("/login").get_data(as_text=True)
    assert 'name="phone"' in html and 'name="password"' not in html
    r = client.post(
        "/api/v1/auth/token",
        json={"email": "resident1@example.org", "password": "commons-demo-2026"},
    )
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "method_disabled"
    r = client.form("/login", {"email": "resident1@example.org", "password": "x"})
    assert r.status_code == 400
    assert client.get("/register").status_code == 302
    r = client.post("/api/v1/accounts", json={"email": "new@example.org", "display_name": "新邻居"})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "method_disabled"


# --- every place that names a person ---------------------------------------------------------


def test_roles_grant_takes_a_number(app, db):
    from portal.roles.models import Role, RoleGrant

    runner = app.test_cli_runner()
    r = runner.invoke(args=["roles", "grant", "138 0013 8022", "committee", "110101001002"])
    assert r.exit_code == 0, r.output
    user = phones.find_by_phone("+8613800138022")
    assert db.session.scalar(
        sa.select(RoleGrant).where(RoleGrant.user_id == user.id, RoleGrant.role == Role.committee)
    )
    r = runner.invoke(args=["roles", "grant", "13999999999", "admin"])
    assert r.exit_code != 0 and "no account" in r.output


def test_the_admin_page_grants_by_number(client, login_as, db):
    login_as("admin")
    r = client.form(
        "/admin/roles",
        {"email": "+86 138 0013 8023", "role": "grid_worker", "scope_code": "110101001001001"},
    )
    assert r.status_code == 302, r.get_data(as_text=True)
    r = client.form("/admin/roles", {"email": "13999999999", "role": "admin", "scope_code": ""})
    assert r.status_code == 400 and 'id="email-error"' in r.get_data(as_text=True)


def test_outbox_list_shows_the_latest_texts_to_a_number(app, client, db, frozen):
    client.post("/api/v1/auth/sms-code", json={"phone": NEW})
    code = last_code(db, NEW)
    r = app.test_cli_runner().invoke(args=["outbox", "list", "--to", "139 1234 5678"])
    assert r.exit_code == 0 and code in r.output and "sms_sign_in" in r.output


def test_every_demo_account_has_a_number(db):
    rows = db.session.execute(
        sa.select(User.email, User.phone).where(User.email.like("%@example.org"))
    ).all()
    assert rows and all(re.fullmatch(r"\+86138001380\d\d", phone) for _e, phone in rows)
    assert dict(rows)["admin@example.org"] == "+8613800138000"
