"""Text messages: one small provider interface (``SMS_PROVIDER``), like mail's outbox.

Mainland SMS services send *templates*, not free text: a template registered with the service
(``SMS_TEMPLATE_CODE``), under a registered signature (``SMS_SIGN_NAME``), filled with
parameters. So a message here is an ``SmsMessage``: the template it is made from, its
parameters (the code) and, for people and the console, the readable text.

- ``console`` (development, demo, tests) delivers by printing the text (when ``SMS_ECHO``) and
  keeping it in the outbox, where ``flask outbox list --to NUMBER`` shows it.
- ``aliyun`` and ``tencent`` call the official SDKs (the ``sms`` extra), with the code as the
  template's one parameter (Aliyun ``${code}``, Tencent ``{1}``). The outbox keeps a record of
  each text they took, with the template and the service's message id but never the code
  (codes are stored only as an HMAC), so ``flask outbox list`` still shows what happened.

When the text is sent: at once, inside the request, before its transaction commits, and not
after the commit (``core.database.after_commit``). The person is waiting for this very text: if
the service refuses it, they must be told now, on the page or in the API's answer, not be left
waiting for a code that never comes. So the code is recorded, the text sent, and on a refusal
the request's changes are discarded: the code never existed, so neither the wait before a new
code nor the hourly and daily caps count a send that did not happen, and the person can ask
again at once (the services' own limits and the per-address rate limit still stand). The
refusal is logged with the number masked and the service's own error code, which is where a
failed send is recorded: the database keeps nothing of a request that was refused. The rare
opposite case, a text sent and then the commit failing, leaves a text whose code does not
work; asking again sends a new one (the wait was not used up either).

A provider that cannot deliver raises ``SmsDeliveryError``: ``kind`` says what the person can
do (``rate_limited``: the service holds back texts to this number for now; ``rejected``: this
number cannot receive them; ``unavailable``: the service is down or refuses our account, try
again later), ``reason`` is the service's code for the log.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from flask import current_app

from portal.core import clock
from portal.extensions import db
from portal.notifications.models import OutboxMessage

log = logging.getLogger(__name__)

RATE_LIMITED, REJECTED, UNAVAILABLE = "rate_limited", "rejected", "unavailable"


class SmsDeliveryError(Exception):
    """The provider did not take the message; ``reason`` is a short code for the log, ``kind``
    what it means for the person (``rate_limited``, ``rejected`` or ``unavailable``)."""

    def __init__(self, reason: str, kind: str = UNAVAILABLE) -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind


@dataclass(frozen=True)
class SmsMessage:
    """One text: to ``phone`` (E.164), made from ``template`` (``code``: the one-time code)
    with ``params``; ``text`` is what it says, for the console and people reading the code."""

    phone: str
    kind: str
    text: str
    template: str = "code"
    params: dict[str, str] = field(default_factory=dict)


class SmsProvider(Protocol):
    name: str

    def send(self, message: SmsMessage) -> str | None:
        """Deliver ``message``, returning the service's message id, or raise SmsDeliveryError."""


class ConsoleProvider:
    """Keeps the message in the outbox, delivered at once, and prints it when asked to."""

    name = "console"

    def send(self, message: SmsMessage) -> str | None:
        msg = OutboxMessage(
            to_address=message.phone,
            subject="SMS",
            body=message.text,
            kind=message.kind,
            sent_at=clock.now(),
            attempts=1,
        )
        db.session.add(msg)
        db.session.flush()
        if current_app.config.get("SMS_ECHO"):
            print(f"\n--- SMS #{msg.id} to {message.phone}\n{message.text}\n---\n", flush=True)
        return None


def _template_id(message: SmsMessage) -> str:
    if message.template != "code":
        raise SmsDeliveryError(f"no_template:{message.template}")
    return current_app.config["SMS_TEMPLATE_CODE"]


def _endpoint() -> tuple[str, str] | None:
    """``SMS_ENDPOINT`` as (scheme, host[:port]), or None for the service's own."""
    url = current_app.config.get("SMS_ENDPOINT") or ""
    if not url:
        return None
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


# Aliyun's codes for "this number gets no more texts for now" and "this number cannot get
# them"; anything else (signature, template, account, keys) is the service refusing us.
ALIYUN_RATE_LIMITED = {"isv.BUSINESS_LIMIT_CONTROL", "isv.DAY_LIMIT_CONTROL", "Throttling.User"}
ALIYUN_REJECTED = {
    "isv.MOBILE_NUMBER_ILLEGAL",
    "isv.BLACK_KEY_CONTROL_LIMIT",
    "isv.MOBILE_COUNT_OVER_LIMIT",
    "isv.DENY_IP_RANGE",
}


class AliyunProvider:
    """Alibaba Cloud SMS (dysmsapi 2017-05-25) through ``alibabacloud-dysmsapi20170525``."""

    name = "aliyun"

    def send(self, message: SmsMessage) -> str | None:
        from alibabacloud_dysmsapi20170525 import models
        from alibabacloud_dysmsapi20170525.client import Client
        from alibabacloud_tea_openapi import utils_models
        from darabonba.exceptions import DaraException
        from darabonba.runtime import RuntimeOptions

        cfg = current_app.config
        config = utils_models.Config(
            access_key_id=cfg["SMS_ALIYUN_ACCESS_KEY_ID"],
            access_key_secret=cfg["SMS_ALIYUN_ACCESS_KEY_SECRET"],
        )
        where = _endpoint()
        if where is not None:
            config.protocol, config.endpoint = where
        else:
            config.endpoint = "dysmsapi.aliyuncs.com"
        timeout = cfg["SMS_TIMEOUT"] * 1000
        runtime = RuntimeOptions(
            autoretry=False, read_timeout=timeout, connect_timeout=timeout, max_attempts=1
        )
        request = models.SendSmsRequest(
            phone_numbers=message.phone.removeprefix("+86"),
            sign_name=cfg["SMS_SIGN_NAME"],
            template_code=_template_id(message),
            template_param=json.dumps(message.params),
        )
        try:
            body = Client(config).send_sms_with_options(request, runtime).body
        except DaraException as err:  # the service answered with an HTTP error
            code = str(getattr(err, "code", None) or type(err).__name__)
            kind = RATE_LIMITED if code in ALIYUN_RATE_LIMITED else UNAVAILABLE
            raise SmsDeliveryError(f"aliyun:{code}", kind) from None
        except Exception as err:  # unreachable, timed out, or an answer that is not JSON
            raise SmsDeliveryError(f"aliyun:network:{type(err).__name__}") from None
        code = str(getattr(body, "code", None) or "")
        if code != "OK":
            if code in ALIYUN_RATE_LIMITED:
                kind = RATE_LIMITED
            elif code in ALIYUN_REJECTED:
                kind = REJECTED
            else:
                kind = UNAVAILABLE
            raise SmsDeliveryError(f"aliyun:{code or 'no_code'}", kind)
        return body.biz_id


TENCENT_RATE_LIMITED_PREFIX = "LimitExceeded."
TENCENT_REJECTED = {
    "InvalidParameterValue.IncorrectPhoneNumber",
    "FailedOperation.PhoneNumberInBlacklist",
    "FailedOperation.PhoneNumberOnBlacklist",
    "UnsupportedOperation.ContainDomesticAndInternationalPhoneNumber",
    "UnsupportedOperation.UnsupportedRegion",
}


def _tencent_kind(code: str) -> str:
    if code.startswith(TENCENT_RATE_LIMITED_PREFIX) or code == "RequestLimitExceeded":
        return RATE_LIMITED
    return REJECTED if code in TENCENT_REJECTED else UNAVAILABLE


class TencentProvider:
    """Tencent Cloud SMS (2021-01-11) through ``tencentcloud-sdk-python-sms``. The service
    answers a successful request with one status per number (``SendStatusSet``): a number it
    did not take is a failure although the request succeeded."""

    name = "tencent"

    def send(self, message: SmsMessage) -> str | None:
        from tencentcloud.common import credential
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import (
            TencentCloudSDKException,
        )
        from tencentcloud.common.profile.client_profile import ClientProfile
        from tencentcloud.common.profile.http_profile import HttpProfile
        from tencentcloud.sms.v20210111 import models, sms_client

        cfg = current_app.config
        http = HttpProfile(reqTimeout=cfg["SMS_TIMEOUT"])
        where = _endpoint()
        if where is not None:
            http.protocol = http.scheme = where[0]
            http.endpoint = where[1]
        request = models.SendSmsRequest()
        request.PhoneNumberSet = [message.phone]
        request.SmsSdkAppId = cfg["SMS_TENCENT_SDK_APP_ID"]
        request.SignName = cfg["SMS_SIGN_NAME"]
        request.TemplateId = _template_id(message)
        request.TemplateParamSet = list(message.params.values())
        try:
            cred = credential.Credential(
                cfg["SMS_TENCENT_SECRET_ID"], cfg["SMS_TENCENT_SECRET_KEY"]
            )
            client = sms_client.SmsClient(
                cred, cfg["SMS_TENCENT_REGION"], ClientProfile(httpProfile=http)
            )
            response: Any = client.SendSms(request)
        except TencentCloudSDKException as err:
            code = str(err.get_code() or "unknown")
            raise SmsDeliveryError(f"tencent:{code}", _tencent_kind(code)) from None
        except Exception as err:  # an answer the SDK could not read
            raise SmsDeliveryError(f"tencent:network:{type(err).__name__}") from None
        statuses = response.SendStatusSet or []
        if not statuses:
            raise SmsDeliveryError("tencent:no_status")
        status = statuses[0]
        code = str(status.Code or "")
        if code != "Ok":
            raise SmsDeliveryError(f"tencent:{code or 'no_code'}", _tencent_kind(code))
        return status.SerialNo


PROVIDERS: dict[str, type] = {
    "console": ConsoleProvider,
    "aliyun": AliyunProvider,
    "tencent": TencentProvider,
}


def provider() -> SmsProvider:
    return PROVIDERS[current_app.config["SMS_PROVIDER"]]()


def masked(phone: str) -> str:
    national = phone.removeprefix("+86")
    return f"+86 {national[:3]}****{national[-4:]}"


def send_sms(message: SmsMessage) -> None:
    """Send through the configured provider; a refusal is logged and raised again. A real
    provider's text is recorded in the outbox without its parameters (the code)."""
    chosen = provider()
    try:
        message_id = chosen.send(message)
    except SmsDeliveryError as err:
        # Never the whole number in the log: the numbers staff see are masked too.
        log.warning("sms to %s failed (%s): %s", masked(message.phone), err.kind, err.reason)
        raise
    if chosen.name != "console":
        db.session.add(
            OutboxMessage(
                to_address=message.phone,
                subject="SMS",
                body=(
                    f"[{chosen.name} template {_template_id(message)}, parameters withheld]"
                    f" message id {message_id or '-'}"
                ),
                kind=message.kind,
                sent_at=clock.now(),
                attempts=1,
            )
        )
        db.session.flush()


def latest_to(address: str, limit: int = 10) -> list[OutboxMessage]:
    """The latest messages (texts and mails) to one number or address, newest first."""
    return list(
        db.session.scalars(
            db.select(OutboxMessage)
            .where(OutboxMessage.to_address == address)
            .order_by(OutboxMessage.id.desc())
            .limit(limit)
        )
    )
