"""WeChat mini-program sign-in against a local fake of WeChat's jscode2session: a linked openid
signs in, a new one is linked to a number verified by SMS code (the phone sign-in's rules), one
openid per account and one account per openid, the session_key never leaves WeChat's answer,
and WeChat's refusals are clear answers, never a 500."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.accounts.models import SmsCode, User, WechatLinkToken
from portal.core import clock
from tests.accounts.test_phone import DEMO_RESIDENT, last_code
from tests.notifications.fakes import closed_port_url, fake_server

NEW = "+8613912349999"
SESSION_KEY = "tiihtNczf5v6AKRyjwEUhQ=="
OPENIDS = {"code-a": "oA1b2C3d4E5f6G7h8I9j0K", "code-b": "oZ9y8X7w6V5u4T3s2R1q0P"}


def _wechat(seen):
    js_code = seen.query.get("js_code", [""])[0]
    errors = {"used": 40163, "bad": 40029, "busy": -1, "limit": 45011, "appid": 40013}
    if js_code in errors:
        body = {"errcode": errors[js_code], "errmsg": "refused, rid: 1"}
    elif js_code in OPENIDS:
        body = {"openid": OPENIDS[js_code], "session_key": SESSION_KEY}
    else:
        body = {"errcode": 40029, "errmsg": "invalid code"}
    return 200, body, "text/plain"  # WeChat answers JSON as text/plain


@pytest.fixture
def wechat(app, monkeypatch):
    with fake_server(_wechat) as fake:
        monkeypatch.setitem(app.config, "WECHAT_APP_ID", "wx0123456789abcdef")
        monkeypatch.setitem(app.config, "WECHAT_APP_SECRET", "test-app-secret")
        monkeypatch.setitem(app.config, "WECHAT_API_BASE", fake.url)
        monkeypatch.setitem(app.config, "WECHAT_TIMEOUT", 2)
        yield fake


def _sign_in(client, code="code-a"):
    return client.post("/api/v1/auth/wechat", json={"code": code})


def _link_token(client) -> str:
    r = _sign_in(client)
    assert r.status_code == 409, r.get_json()
    return r.get_json()["link_token"]


def _sms(client, db, phone) -> str:
    assert client.post("/api/v1/auth/sms-code", json={"phone": phone}).status_code == 202
    return last_code(db, phone)


def _link(client, token, phone, code, **extra):
    body = {"link_token": token, "phone": phone, "code": code, **extra}
    return client.post("/api/v1/auth/wechat/link", json=body)


def _me(client, token):
    return client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})


def test_not_configured_the_endpoints_say_so(client, db):
    r = _sign_in(client)
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "wechat_disabled"
    r = _link(client, "x" * 43, NEW, "123456")
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "wechat_disabled"


def test_a_new_wechat_user_links_an_existing_number_then_signs_in(client, db, wechat):
    r = _sign_in(client)
    assert r.status_code == 409
    answer = r.get_json()
    assert answer["error"]["code"] == "link_required" and answer["expires_in"] == 600
    assert SESSION_KEY not in r.get_data(as_text=True)
    [seen] = wechat.seen
    assert seen.path == "/sns/jscode2session"
    assert seen.query == {
        "appid": ["wx0123456789abcdef"],
        "secret": ["test-app-secret"],
        "js_code": ["code-a"],
        "grant_type": ["authorization_code"],
    }
    r = _link(client, answer["link_token"], DEMO_RESIDENT, _sms(client, db, DEMO_RESIDENT))
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["new_account"] is False
    assert _me(client, r.get_json()["token"]).get_json()["phone"] == DEMO_RESIDENT
    user = db.session.scalar(sa.select(User).where(User.phone == DEMO_RESIDENT))
    assert user.wechat_openid == OPENIDS["code-a"]
    # From now on the mini-program signs in at once.
    r = _sign_in(client)
    assert r.status_code == 200
    assert _me(client, r.get_json()["token"]).get_json()["phone"] == DEMO_RESIDENT
    # The session_key is stored nowhere.
    for table in ("users", "wechat_link_tokens", "api_tokens"):
        rows = db.session.execute(sa.text(f"SELECT * FROM {table}")).all()  # noqa: S608
        assert SESSION_KEY not in repr(rows)


def test_a_new_number_needs_consent_and_keeps_token_and_code_for_the_second_try(client, db, wechat):
    token = _link_token(client)
    code = _sms(client, db, NEW)
    r = _link(client, token, NEW, code)
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "consent_required"
    r = _link(client, token, NEW, code, accept_privacy=True)
    assert r.status_code == 200 and r.get_json()["new_account"] is True
    user = db.session.scalar(sa.select(User).where(User.phone == NEW))
    assert user.wechat_openid == OPENIDS["code-a"] and user.privacy_accepted_at is not None


def test_the_link_token_is_used_once_and_expires(client, db, wechat):
    token = _link_token(client)
    assert _link(client, token, NEW, _sms(client, db, NEW), accept_privacy=True).status_code == 200
    clock.freeze(clock.now() + timedelta(seconds=61))
    try:
        r = _link(client, token, NEW, _sms(client, db, NEW))
        assert r.status_code == 401 and r.get_json()["error"]["code"] == "invalid_link_token"
        # A token older than 10 minutes no longer works.
        db.session.execute(sa.update(User).values(wechat_openid=None))
        stale = _link_token(client)
        clock.freeze(clock.now() + timedelta(minutes=11))
        r = _link(client, stale, NEW, _sms(client, db, NEW))
        assert r.status_code == 401 and r.get_json()["error"]["code"] == "invalid_link_token"
    finally:
        clock.freeze(None)


def test_a_wrong_sms_code_counts_and_the_link_token_stays(client, db, wechat):
    token = _link_token(client)
    code = _sms(client, db, NEW)
    wrong = "000000" if code != "000000" else "111111"
    r = _link(client, token, NEW, wrong)
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "invalid_code"
    assert db.session.scalar(sa.select(SmsCode.attempts).where(SmsCode.phone == NEW)) == 1
    assert db.session.scalar(sa.select(sa.func.count(WechatLinkToken.id))) == 1
    assert _link(client, token, NEW, code, accept_privacy=True).status_code == 200


def test_one_wechat_user_per_account_and_one_account_per_wechat_user(client, db, wechat):
    token = _link_token(client)
    assert _link(client, token, NEW, _sms(client, db, NEW), accept_privacy=True).status_code == 200
    # Another WeChat user cannot take the same account.
    r = _sign_in(client, "code-b")
    assert r.status_code == 409
    clock.freeze(clock.now() + timedelta(seconds=61))
    try:
        r = _link(client, r.get_json()["link_token"], NEW, _sms(client, db, NEW))
    finally:
        clock.freeze(None)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "wechat_already_linked"
    # And the database refuses a second account for one openid, whatever the code does.
    other = db.session.scalar(sa.select(User).where(User.phone == DEMO_RESIDENT))
    other.wechat_openid = OPENIDS["code-a"]
    with pytest.raises(sa.exc.IntegrityError), db.session.begin_nested():
        db.session.flush()


@pytest.mark.parametrize(
    ("code", "status", "error"),
    [
        ("bad", 401, "invalid_wechat_code"),
        ("used", 401, "invalid_wechat_code"),
        ("limit", 429, "wechat_rate_limited"),
        ("busy", 503, "wechat_unavailable"),
        ("appid", 503, "wechat_unavailable"),
    ],
)
def test_wechats_refusals_are_clear_answers(client, db, wechat, caplog, code, status, error):
    r = _sign_in(client, code)
    assert r.status_code == status and r.get_json()["error"]["code"] == error
    assert r.get_json()["error"]["message"]
    if status == 429:
        assert int(r.headers["Retry-After"]) > 0
    assert "errcode" in caplog.text and "test-app-secret" not in caplog.text
    assert db.session.scalar(sa.select(sa.func.count(WechatLinkToken.id))) == 0


def test_wechat_unreachable_is_a_503(app, client, db, monkeypatch):
    monkeypatch.setitem(app.config, "WECHAT_APP_ID", "wx0123456789abcdef")
    monkeypatch.setitem(app.config, "WECHAT_APP_SECRET", "test-app-secret")
    monkeypatch.setitem(app.config, "WECHAT_API_BASE", closed_port_url())
    r = _sign_in(client)
    assert r.status_code == 503 and r.get_json()["error"]["code"] == "wechat_unavailable"


def test_wechats_refusal_is_told_in_chinese_too(client, db, wechat):
    r = client.post(
        "/api/v1/auth/wechat", json={"code": "bad"}, headers={"Accept-Language": "zh-CN"}
    )
    assert r.status_code == 401 and "微信" in r.get_json()["error"]["message"]


def test_refused_wechat_codes_spend_the_sign_in_budget(app, client, db, wechat, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_LIMIT", "2 per minute")
    here = {"REMOTE_ADDR": "203.0.113.77"}
    for _ in range(2):
        r = client.post("/api/v1/auth/wechat", json={"code": "bad"}, environ_base=here)
        assert r.status_code == 401
    r = client.post("/api/v1/auth/wechat", json={"code": "code-a"}, environ_base=here)
    assert r.status_code == 429
    # Signing in spends nothing: another address signs in as often as it likes.
    there = {"REMOTE_ADDR": "203.0.113.78"}
    for _ in range(3):
        r = client.post("/api/v1/auth/wechat", json={"code": "code-a"}, environ_base=there)
        assert r.status_code == 409
