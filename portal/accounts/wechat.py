"""Signing in from the WeChat mini-program: ready, and off unless ``WECHAT_APP_ID`` and
``WECHAT_APP_SECRET`` are set.

The mini-program sends the ``code`` of ``wx.login()``; the server exchanges it at WeChat's
``jscode2session`` (``WECHAT_API_BASE`` overrides the host) for the person's ``openid``. The
``session_key`` that comes with it is neither returned nor stored: nothing here needs it.

- An openid linked to an account signs in to it (the API's usual bearer token).
- An openid new to the site gets a ``link_token``: random, valid ``LINK_MINUTES``, used once,
  stored only as its SHA-256. With it and an SMS code for a number (verified exactly as signing
  in with a number is: ``phones.check_code``, ``phones.sign_in_with_code``), the openid is
  linked to that number's account, which is created (privacy notice accepted) if the number
  has none. One openid per account, one account per openid: a unique column
  (``users.wechat_openid``) keeps it, whatever runs in parallel.
- Not configured: the endpoints answer 404 ``wechat_disabled``: the feature does not exist on
  this site, which no retry will change (a 503 would say "later").

WeChat's refusals are answers with their own code, never a 500: an invalid or used code
(40029, 40163) is 401 ``invalid_wechat_code``; its rate limit (45011) 429
``wechat_rate_limited``; busy (-1), unreachable, or refusing the site's own app id or secret,
503 ``wechat_unavailable`` (logged, for the operator).
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta

from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from portal.accounts.models import SmsCode, User, WechatLinkToken
from portal.accounts.phones import sign_in_with_code
from portal.core import clock
from portal.core.database import rowcount
from portal.core.errors import DomainError
from portal.core.i18n import gettext as _
from portal.extensions import db

log = logging.getLogger(__name__)

LINK_MINUTES = 10
INVALID_CODE = {40029, 40163}  # invalid code; code already used
RATE_LIMITED = {45011}


class WechatError(DomainError):
    def __init__(self, code: str, message: str, *, status: int, retry_after: int | None = None):
        super().__init__(code, message, status=status)
        self.headers = {"Retry-After": str(retry_after)} if retry_after else {}


def configured() -> bool:
    cfg = current_app.config
    return bool(cfg.get("WECHAT_APP_ID") and cfg.get("WECHAT_APP_SECRET"))


def require_configured() -> None:
    if not configured():
        raise WechatError(
            "wechat_disabled", _("Signing in with WeChat is not offered on this site."), status=404
        )


def _unavailable() -> WechatError:
    return WechatError(
        "wechat_unavailable",
        _("WeChat sign-in is not answering just now. Please try again in a minute."),
        status=503,
    )


def exchange(code: str) -> str:
    """The openid for the mini-program's ``code``, from WeChat's ``jscode2session``; the
    session_key of the answer is dropped here."""
    cfg = current_app.config
    query = urllib.parse.urlencode(
        {
            "appid": cfg["WECHAT_APP_ID"],
            "secret": cfg["WECHAT_APP_SECRET"],
            "js_code": code,
            "grant_type": "authorization_code",
        }
    )
    url = f"{cfg['WECHAT_API_BASE'].rstrip('/')}/sns/jscode2session?{query}"
    try:
        # The base is an http(s) URL checked by the config; the code is sent as a parameter.
        with urllib.request.urlopen(url, timeout=cfg["WECHAT_TIMEOUT"]) as answer:  # noqa: S310  # nosec B310
            data = json.loads(answer.read(65536))
    except (OSError, ValueError) as err:  # unreachable, timed out, an HTTP error, not JSON
        log.warning("wechat jscode2session failed: %s", type(err).__name__)
        raise _unavailable() from None
    if not isinstance(data, dict):
        raise _unavailable()
    errcode = data.get("errcode") or 0
    openid = data.get("openid")
    if errcode == 0 and isinstance(openid, str) and 0 < len(openid) <= 64:
        return openid
    log.warning("wechat jscode2session refused: errcode %s", errcode)
    if errcode in INVALID_CODE:
        raise WechatError(
            "invalid_wechat_code",
            _("WeChat did not accept this sign-in. Please sign in again from the mini-program."),
            status=401,
        )
    if errcode in RATE_LIMITED:
        raise WechatError(
            "wechat_rate_limited",
            _("Too many WeChat sign-ins just now. Please try again in a minute."),
            status=429,
            retry_after=60,
        )
    raise _unavailable()  # busy (-1), or the site's own app id or secret refused


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def account_of(openid: str) -> User | None:
    return db.session.scalar(select(User).where(User.wechat_openid == openid))


def issue_link_token(openid: str) -> tuple[str, int]:
    """A new link token for ``openid``, and the seconds it lives."""
    raw = secrets.token_urlsafe(32)
    now = clock.now()
    db.session.add(
        WechatLinkToken(
            token_hash=_hash(raw),
            openid=openid,
            created_at=now,
            expires_at=now + timedelta(minutes=LINK_MINUTES),
        )
    )
    db.session.flush()
    return raw, LINK_MINUTES * 60


def invalid_link_token() -> WechatError:
    return WechatError(
        "invalid_link_token",
        _("This WeChat sign-in has expired. Please sign in again from the mini-program."),
        status=401,
    )


def live_link_token(raw: str) -> WechatLinkToken:
    """The link token ``raw`` names, if still unused and unexpired; it is spent by ``link``."""
    row = db.session.scalar(
        select(WechatLinkToken).where(
            WechatLinkToken.token_hash == _hash(raw or ""),
            WechatLinkToken.used_at.is_(None),
            WechatLinkToken.expires_at > clock.now(),
        )
    )
    if row is None:
        raise invalid_link_token()
    return row


def _already_linked() -> WechatError:
    return WechatError(
        "wechat_already_linked",
        _(
            "This number's account is linked to another WeChat account, or this WeChat account "
            "to another number."
        ),
        status=409,
    )


def link(
    token: WechatLinkToken, row: SmsCode, *, accept_privacy: bool, locale: str
) -> tuple[User, bool]:
    """Link the token's openid to the account of the number ``row`` (a checked SMS code) proved,
    creating it as signing in with a number does (``consent_required`` without
    ``accept_privacy``: the token and the code stay valid for the second try). The token and
    the code are spent, once."""
    openid = token.openid
    holder = account_of(openid)
    user, created = sign_in_with_code(row, accept_privacy=accept_privacy, locale=locale)
    if holder is not None and holder.id != user.id:
        raise _already_linked()
    if user.wechat_openid not in (None, openid):
        raise _already_linked()
    spent = db.session.execute(
        update(WechatLinkToken)
        .where(WechatLinkToken.id == token.id, WechatLinkToken.used_at.is_(None))
        .values(used_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    if rowcount(spent) != 1:  # used by a parallel request a moment ago
        raise invalid_link_token()
    try:
        with db.session.begin_nested():
            # One openid per account: only an account without one (or with this one) takes it;
            # one account per openid: the unique column refuses a second.
            linked = db.session.execute(
                update(User)
                .where(
                    User.id == user.id,
                    or_(User.wechat_openid.is_(None), User.wechat_openid == openid),
                )
                .values(wechat_openid=openid)
                .execution_options(synchronize_session=False)
            )
    except IntegrityError:  # the openid linked to another account in parallel
        raise _already_linked() from None
    if rowcount(linked) != 1:  # the account linked another openid in parallel
        raise _already_linked()
    db.session.refresh(user, ["wechat_openid"])
    return user, created
