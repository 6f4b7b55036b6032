"""The real SMS providers (Aliyun, Tencent) through their official SDKs, each pointed at a local
fake of its service: success, the service's rate limit, a number refused inside a successful
answer, a bad signature, the network down. A refusal is a clear answer with its code (never a
500), is logged with the number masked, counts nothing, and can be retried at once."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.accounts.models import SmsCode
from portal.config import ConfigError, load_config
from portal.notifications.models import OutboxMessage
from tests.notifications.fakes import closed_port_url, fake_server

NUMBER = "+8613912340001"
JSON = "application/json"


def _aliyun_ok(seen):
    return 200, {"Code": "OK", "Message": "OK", "BizId": "900619^0", "RequestId": "r1"}, JSON


def _aliyun_code(code):
    def answer(seen):
        return 200, {"Code": code, "Message": "refused", "RequestId": "r2"}, JSON

    return answer


def _aliyun_signature(seen):
    body = {"Code": "SignatureDoesNotMatch", "Message": "bad signature", "RequestId": "r3"}
    return 400, body, JSON


def _tencent_status(code):
    def answer(seen):
        status = {
            "SerialNo": "2640:0001",
            "PhoneNumber": NUMBER,
            "Fee": 1,
            "SessionContext": "",
            "Code": code,
            "Message": "send success" if code == "Ok" else "refused",
            "IsoCode": "CN",
        }
        return 200, {"Response": {"SendStatusSet": [status], "RequestId": "t1"}}, JSON

    return answer


def _tencent_error(code):
    def answer(seen):
        error = {"Code": code, "Message": "refused"}
        return 200, {"Response": {"Error": error, "RequestId": "t2"}}, JSON

    return answer


SETTINGS = {
    "aliyun": {
        "SMS_ALIYUN_ACCESS_KEY_ID": "test-key-id",
        "SMS_ALIYUN_ACCESS_KEY_SECRET": "test-key-secret",
    },
    "tencent": {
        "SMS_TENCENT_SECRET_ID": "test-secret-id",
        "SMS_TENCENT_SECRET_KEY": "test-secret-key",
        "SMS_TENCENT_SDK_APP_ID": "1400000000",
    },
}


@pytest.fixture
def use(app, monkeypatch):
    """Choose a provider, pointed at ``url``."""

    def choose(name: str, url: str) -> None:
        for key, value in {
            "SMS_PROVIDER": name,
            "SMS_SIGN_NAME": "社区议事厅",
            "SMS_TEMPLATE_CODE": "SMS_123456" if name == "aliyun" else "1234567",
            "SMS_ENDPOINT": url,
            "SMS_TIMEOUT": 2,
            **SETTINGS[name],
        }.items():
            monkeypatch.setitem(app.config, key, value)

    return choose


def _ask(client):
    return client.post("/api/v1/auth/sms-code", json={"phone": NUMBER})


def _codes(db) -> int:
    return db.session.scalar(sa.select(sa.func.count(SmsCode.id)))


def _outbox(db) -> list[OutboxMessage]:
    return list(
        db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.to_address == NUMBER))
    )


# --- success ---------------------------------------------------------------------------------


def test_aliyun_sends_the_template_with_the_code_and_keeps_no_code(client, db, use):
    with fake_server(_aliyun_ok) as fake:
        use("aliyun", fake.url)
        r = _ask(client)
    assert r.status_code == 202, r.get_json()
    [seen] = fake.seen
    assert seen.method == "POST" and seen.headers["x-acs-action"] == "SendSms"
    assert seen.query["PhoneNumbers"] == ["13912340001"]
    assert seen.query["SignName"] == ["社区议事厅"]
    assert seen.query["TemplateCode"] == ["SMS_123456"]
    code = __import__("json").loads(seen.query["TemplateParam"][0])["code"]
    assert len(code) == 6 and code.isdigit()
    assert seen.headers["authorization"].startswith("ACS3-HMAC-SHA256 Credential=test-key-id")
    [msg] = _outbox(db)
    assert msg.sent_at is not None and msg.kind == "sms_sign_in"
    assert "SMS_123456" in msg.body and "900619^0" in msg.body
    assert code not in msg.body  # codes are kept only as an HMAC
    assert _codes(db) == 1
    # The code the fake service received signs in.
    r = client.post("/api/v1/auth/token", json={"phone": NUMBER, "code": code})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "consent_required"


def test_tencent_sends_the_template_with_the_code(client, db, use):
    with fake_server(_tencent_status("Ok")) as fake:
        use("tencent", fake.url)
        r = _ask(client)
    assert r.status_code == 202, r.get_json()
    [seen] = fake.seen
    assert seen.headers["x-tc-action"] == "SendSms"
    assert seen.headers["authorization"].startswith("TC3-HMAC-SHA256 Credential=test-secret-id")
    sent = seen.json()
    assert sent["PhoneNumberSet"] == [NUMBER] and sent["SmsSdkAppId"] == "1400000000"
    assert sent["SignName"] == "社区议事厅" and sent["TemplateId"] == "1234567"
    [code] = sent["TemplateParamSet"]
    [msg] = _outbox(db)
    assert "2640:0001" in msg.body and code not in msg.body


# --- refusals --------------------------------------------------------------------------------

REFUSALS = [
    ("aliyun", _aliyun_code("isv.BUSINESS_LIMIT_CONTROL"), 429, "sms_rate_limited"),
    ("aliyun", _aliyun_code("isv.MOBILE_NUMBER_ILLEGAL"), 400, "sms_rejected"),
    ("aliyun", _aliyun_code("isv.SMS_SIGNATURE_ILLEGAL"), 503, "sms_failed"),
    ("aliyun", _aliyun_signature, 503, "sms_failed"),
    ("tencent", _tencent_error("LimitExceeded.PhoneNumberDailyLimit"), 429, "sms_rate_limited"),
    (
        "tencent",
        _tencent_status("LimitExceeded.PhoneNumberThirtySecondLimit"),
        429,
        "sms_rate_limited",
    ),
    ("tencent", _tencent_status("InvalidParameterValue.IncorrectPhoneNumber"), 400, "sms_rejected"),
    ("tencent", _tencent_error("AuthFailure.SignatureFailure"), 503, "sms_failed"),
    (
        "tencent",
        _tencent_status("FailedOperation.SignatureIncorrectOrUnapproved"),
        503,
        "sms_failed",
    ),
]


@pytest.mark.parametrize(("name", "answer", "status", "code"), REFUSALS)
def test_a_refusal_is_a_clear_answer_logged_masked_and_retried_at_once(
    client, db, use, caplog, name, answer, status, code
):
    with fake_server(answer) as fake:
        use(name, fake.url)
        r = _ask(client)
        assert r.status_code == status
        error = r.get_json()["error"]
        assert error["code"] == code and error["message"]
        if status == 429:
            assert r.headers["Retry-After"]
        assert "+86 139****0001" in caplog.text and NUMBER not in caplog.text
        assert "13912340001" not in caplog.text
        assert _codes(db) == 0 and _outbox(db) == []  # nothing counted, nothing kept
        # Asked again at once (no wait used up): the service takes it this time.
        fake.answer = _aliyun_ok if name == "aliyun" else _tencent_status("Ok")
        assert _ask(client).status_code == 202
    assert _codes(db) == 1


def test_the_refusal_is_told_in_chinese_too(client, db, use):
    with fake_server(_aliyun_code("isv.BUSINESS_LIMIT_CONTROL")) as fake:
        use("aliyun", fake.url)
        r = client.post(
            "/api/v1/auth/sms-code", json={"phone": NUMBER}, headers={"Accept-Language": "zh-CN"}
        )
    assert r.status_code == 429
    assert "短信" in r.get_json()["error"]["message"]


@pytest.mark.parametrize("name", ["aliyun", "tencent"])
def test_the_network_down_is_a_503_and_retried(client, db, use, caplog, name):
    use(name, closed_port_url())
    r = _ask(client)
    assert r.status_code == 503 and r.get_json()["error"]["code"] == "sms_failed"
    assert f"{name}:" in caplog.text and "etwork" in caplog.text
    assert "+86 139****0001" in caplog.text
    assert _codes(db) == 0


def test_the_sign_in_page_shows_the_refusal_at_the_number(client, db, use):
    with fake_server(_tencent_status("InvalidParameterValue.IncorrectPhoneNumber")) as fake:
        use("tencent", fake.url)
        r = client.form("/login/code", {"phone": "139 1234 0001"}, page="/login")
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert "这个号码无法接收我们的短信" in html
    assert 'value="139 1234 0001"' in html  # what was typed is kept


def test_outbox_list_shows_a_real_providers_text(app, client, db, use):
    with fake_server(_aliyun_ok) as fake:
        use("aliyun", fake.url)
        assert _ask(client).status_code == 202
    db.session.flush()
    out = app.test_cli_runner().invoke(args=["outbox", "list", "--to", "139 1234 0001"])
    assert "sms_sign_in (sent)" in out.output and "900619^0" in out.output


# --- configuration ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["aliyun", "tencent"])
def test_a_provider_without_its_settings_does_not_start(name):
    with pytest.raises(ConfigError, match=f"SMS_PROVIDER={name} needs SMS_SIGN_NAME"):
        load_config({"COMMONS_ENV": "testing", "SMS_PROVIDER": name})


def test_a_provider_with_its_settings_starts_and_an_unknown_one_does_not():
    cfg = load_config(
        {
            "COMMONS_ENV": "testing",
            "SMS_PROVIDER": "tencent",
            "SMS_SIGN_NAME": "社区议事厅",
            "SMS_TEMPLATE_CODE": "1234567",
            **SETTINGS["tencent"],
        }
    )
    assert cfg["SMS_PROVIDER"] == "tencent"
    with pytest.raises(ConfigError, match="console, aliyun or tencent"):
        load_config({"COMMONS_ENV": "testing", "SMS_PROVIDER": "twilio"})
    with pytest.raises(ConfigError, match="SMS_ENDPOINT"):
        load_config({"COMMONS_ENV": "testing", "SMS_ENDPOINT": "dysmsapi.aliyuncs.com"})
