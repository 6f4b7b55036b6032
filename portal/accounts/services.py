"""Account rules: registration, sign-in, sessions, tokens, passwords, email links."""

from __future__ import annotations

import math
import secrets
import time
from datetime import timedelta

from flask import current_app, url_for
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from limits import parse as parse_limit
from limits import parse_many
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from portal.accounts.auth import hash_token
from portal.accounts.models import ApiToken, User, UserSession
from portal.accounts.passwords import dummy_hash, hash_password, verify_password
from portal.core import clock
from portal.core.database import rowcount
from portal.core.errors import DomainError
from portal.core.i18n import force_locale
from portal.core.i18n import gettext as _
from portal.core.i18n import lazy_gettext as _l
from portal.core.urls import external_url
from portal.extensions import db, limiter
from portal.notifications.mail import queue_email, queue_email_to
from portal.notifications.services import notify, register_type

CONFIRM_MAX_AGE = 7 * 24 * 3600
RESET_MAX_AGE = 2 * 3600
REGISTER_MAX_AGE = 2 * 24 * 3600


class AccountError(DomainError):
    """An account rule said no."""


def normalize_email(email: str) -> str:
    local, _sep, domain = email.strip().rpartition("@")
    return f"{local}@{domain.lower()}" if local else email.strip()


def find_by_email(email: str) -> User | None:
    email = normalize_email(email)
    return db.session.scalar(db.select(User).where(db.func.lower(User.email) == email.lower()))


def register(email: str, display_name: str, locale: str, next_url: str | None = None) -> None:
    """Start a registration, answering nothing about the address: a new address is sent a link
    whose page asks for a password and creates the account (``complete_registration``); the
    owner of an address with an account already is told that someone tried. Either way the
    caller says "check your mail", and an address receives at most REGISTER_MAILS_PER_ADDRESS
    of these. The link is signed, not encrypted, so it carries no password material: the
    password is chosen on the link's page. ``next_url`` (a path of this site) is where the
    link's page leads once the account is made: where the person was going."""
    email = normalize_email(email)
    existing = find_by_email(email)
    if not _may_mail(email):
        return
    if existing is not None and existing.email_confirmed:
        _tell_owner_of_registration(existing)
        return
    data: dict = {"email": email, "name": display_name.strip(), "locale": locale}
    if next_url:
        data["next"] = next_url
    if existing is not None:
        # An account nobody ever proved this mailbox for (made before registration waited for
        # the mailed link): whoever opens the link proves it, and the account becomes theirs.
        data["claim"] = existing.id
    token = _serializer("register").dumps(data)
    link = external_url("accounts.complete_registration", token=token)
    with force_locale(locale):
        subject = _("Confirm your email address for Commons")
        body = _(
            "Hello %(name)s,\n\nTo create your account, open this link within 2 days and "
            "choose your password there:\n"
            "%(link)s\n\nIf you did not register, ignore this message; no account is created.",
            name=display_name.strip(),
            link=link,
        )
    queue_email_to(email, subject, body, kind="confirm_email")


def _may_mail(email: str) -> bool:
    if not _counting():
        return True
    item = parse_limit(current_app.config["REGISTER_MAILS_PER_ADDRESS"])
    return limiter.limiter.hit(item, "register-mail:" + hash_token(email.lower())[:32])


def _tell_owner_of_registration(user: User) -> None:
    with force_locale(user.locale):
        subject = _("Someone tried to register with your email address")
        body = _(
            "Hello %(name)s,\n\nSomeone tried to register a Commons account with your email "
            "address, which already has one. If it was you, sign in:\n%(login)s\n\nor, if you "
            "forgot your password, choose a new one:\n%(reset)s\n\nIf it was not you, ignore "
            "this message; nothing has changed.",
            name=user.display_name,
            login=external_url("accounts.login"),
            reset=external_url("accounts.reset_request"),
        )
    queue_email(user, subject, body, kind="register_existing")


def registration_in(token: str) -> dict | None:
    """The registration a link carries, while it is valid and its address still free."""
    try:
        data = _serializer("register").loads(token, max_age=REGISTER_MAX_AGE)
    except (BadSignature, SignatureExpired):
        return None
    if not isinstance(data, dict):
        return None
    existing = find_by_email(data.get("email", ""))
    if existing is not None and (existing.email_confirmed or data.get("claim") != existing.id):
        return None
    return data


def complete_registration(token: str, password: str) -> User | None:
    """Create the account of a registration link with the password its owner chose on the
    link's page (its address is then confirmed); None when the link is invalid, expired or
    used, also when the same link created the account a moment ago (two submissions at once:
    the database's unique address refuses the second, which is then told the link is used)."""
    data = registration_in(token)
    if data is None:
        return None
    if data.get("claim") is not None:
        return _claim_unconfirmed(data, password)
    user = User(
        email=data["email"],
        display_name=data["name"],
        locale=data["locale"],
        password_hash=hash_password(password),
        email_confirmed_at=clock.now(),
    )
    try:
        with db.session.begin_nested():
            db.session.add(user)
    except IntegrityError:
        return None
    return user


def _claim_unconfirmed(data: dict, password: str) -> User | None:
    """The mailbox's owner takes over the unconfirmed account registered with their address:
    their password and name, the address confirmed, and every session and token of whoever
    made it signed out. Once only: the update applies while the address is unconfirmed."""
    done = db.session.execute(
        update(User)
        .where(User.id == data["claim"], User.email_confirmed_at.is_(None))
        .values(
            password_hash=hash_password(password),
            display_name=data["name"],
            locale=data["locale"],
            email_confirmed_at=clock.now(),
            session_version=User.session_version + 1,
        )
        .execution_options(synchronize_session=False)
    )
    if rowcount(done) != 1:
        return None
    user = db.session.get(User, data["claim"])
    if user is not None:
        db.session.refresh(user)
    return user


# --- sign-in ---------------------------------------------------------------------------------


def _account_key(email: str) -> str:
    return "login-failures:" + hash_token(normalize_email(email).lower())[:32]


def _address_key(email: str, address: str) -> str:
    return f"{_account_key(email)}:{address}"


def _counting() -> bool:
    return bool(current_app.config.get("RATELIMIT_ENABLED", True))


def _seconds_until_reset(item, key: str) -> int:
    reset_at, _remaining = limiter.limiter.get_window_stats(item, key)
    return max(1, math.ceil(reset_at - time.time()))


def sign_in_wait(email: str, address: str) -> int | None:
    """Seconds before ``address`` may try to sign in to ``email``'s account again, or None when
    it may now. An address that failed too often for this account waits; while the account
    as a whole is past its cap (someone guessing from many addresses), so does every address
    that has failed against it. An address that has not failed is never refused here: the
    owner can always sign in (the address's own budget, across accounts, is the shared
    ``LOGIN_LIMIT``)."""
    if not _counting():
        return None
    pair = _address_key(email, address)
    waits = [
        _seconds_until_reset(item, pair)
        for item in parse_many(current_app.config["LOGIN_FAILURES_PER_ACCOUNT_IP"])
        if not limiter.limiter.test(item, pair)
    ]
    if waits:
        return max(waits)
    account_item = parse_limit(current_app.config["LOGIN_FAILURES_PER_ACCOUNT"])
    account = _account_key(email)
    if not limiter.limiter.test(account_item, account) and _failed_here(account_item, pair):
        return _seconds_until_reset(account_item, account)
    return None


def _failed_here(account_item, pair: str) -> bool:
    """Has this address failed against the account within the account's window?"""
    _reset, remaining = limiter.limiter.get_window_stats(account_item, "failed-here:" + pair)
    return remaining < account_item.amount


def authenticate(email: str, password: str, address: str) -> User | None:
    """The user for these credentials, or None; failures count against the account and the
    (account, address) pair, and tell the owner when they pile up."""
    user = find_by_email(email)
    if user is None:
        verify_password(dummy_hash(), password)
        ok = False
    else:
        # An account made by number alone has no password: it signs in by SMS code.
        ok = verify_password(user.password_hash or dummy_hash(), password) and bool(
            user.password_hash
        )
    if not ok:
        _count_failure(email, address, user)
        return None
    return user


def _count_failure(email: str, address: str, user: User | None) -> None:
    if not _counting():
        return
    pair = _address_key(email, address)
    for item in parse_many(current_app.config["LOGIN_FAILURES_PER_ACCOUNT_IP"]):
        limiter.limiter.hit(item, pair)
    account_item = parse_limit(current_app.config["LOGIN_FAILURES_PER_ACCOUNT"])
    account = _account_key(email)
    limiter.limiter.hit(account_item, account)
    limiter.limiter.hit(account_item, "failed-here:" + pair)
    if user is None:
        return
    _reset, remaining = limiter.limiter.get_window_stats(account_item, account)
    failures = account_item.amount - remaining
    if failures >= current_app.config["LOGIN_FAILURE_ALERT_AFTER"] and limiter.limiter.hit(
        parse_limit(current_app.config["LOGIN_FAILURE_ALERTS"]), f"login-alert:{user.id}"
    ):
        _tell_owner_of_failures(user)


register_type(
    "login_failures",
    _l(
        "Someone tried several times to sign in to your account with a wrong password. If it "
        "was not you, choose a new password."
    ),
)


def _tell_owner_of_failures(user: User) -> None:
    """In the app and, to a confirmed address, by email; at most once per alert window."""
    url = url_for("accounts.account")
    notify([user], "login_failures", user, url=url, subject_type="account")
    if not user.email_confirmed:
        return
    with force_locale(user.locale):
        subject = _("Failed sign-ins to your Commons account")
        body = _(
            "Hello %(name)s,\n\nSomeone tried several times to sign in to your account with a "
            "wrong password. If it was you, there is nothing to do. If not, choose a new "
            "password that you use nowhere else:\n%(link)s\n\nAn address that keeps failing "
            "is turned away for a while; you can still sign in as usual.",
            name=user.display_name,
            link=external_url("accounts.reset_request"),
        )
    queue_email(user, subject, body, kind="login_failures")


def start_session(
    user: User, *, device: str | None = None, address: str | None = None, second_factor=False
) -> UserSession:
    """A new signed-in session; ``second_factor``: it passed the staff second step."""
    row = UserSession(
        id=secrets.token_urlsafe(32),
        user_id=user.id,
        session_version=user.session_version,
        device=device_summary(device),
        ip_prefix=truncate_address(address),
        second_factor_at=clock.now() if second_factor else None,
    )
    db.session.add(row)
    db.session.flush()
    return row


_BROWSERS = (
    ("MicroMessenger", "WeChat"),
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Chromium/", "Chromium"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("HarmonyOS", "HarmonyOS"),
    ("Android", "Android"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
)


def device_summary(user_agent: str | None) -> str | None:
    """A few words for the list of sessions ("Chrome on Android"), never the whole header."""
    if not user_agent:
        return None
    browser = next((name for key, name in _BROWSERS if key in user_agent), None)
    system = next((name for key, name in _SYSTEMS if key in user_agent), None)
    if browser and system:
        return f"{browser} / {system}"
    return (browser or system or user_agent.split("/", 1)[0].strip())[:80] or None


def truncate_address(address: str | None) -> str | None:
    """The address without its last part: 203.0.113.x, or an IPv6 /48."""
    if not address:
        return None
    import ipaddress

    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    if ip.version == 4:
        return str(ipaddress.ip_network(f"{ip}/24", strict=False).network_address)[:-1] + "x"
    return str(ipaddress.ip_network(f"{ip}/48", strict=False))


def active_sessions(user: User) -> list[UserSession]:
    """The account's sessions that still sign it in, newest use first."""
    since = clock.now() - timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    return list(
        db.session.scalars(
            db.select(UserSession)
            .where(
                UserSession.user_id == user.id,
                UserSession.revoked_at.is_(None),
                UserSession.session_version == user.session_version,
                UserSession.last_seen_at > since,
            )
            .order_by(UserSession.last_seen_at.desc())
        )
    )


def active_tokens(user: User) -> list[ApiToken]:
    return list(
        db.session.scalars(
            db.select(ApiToken)
            .where(
                ApiToken.user_id == user.id,
                ApiToken.revoked_at.is_(None),
                ApiToken.session_version == user.session_version,
                ApiToken.expires_at > clock.now(),
            )
            .order_by(ApiToken.created_at.desc())
        )
    )


def end_other_sessions(user: User, keep: str | None) -> int:
    """Every session of the account but ``keep`` stops working, and every API token."""
    now = clock.now()
    done = db.session.execute(
        update(UserSession)
        .where(
            UserSession.user_id == user.id,
            UserSession.revoked_at.is_(None),
            UserSession.id != (keep or ""),
        )
        .values(revoked_at=now)
    )
    db.session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return rowcount(done)


def end_own_session(user: User, session_id: str) -> bool:
    """End one session of the account (never another account's)."""
    done = db.session.execute(
        update(UserSession)
        .where(
            UserSession.id == session_id,
            UserSession.user_id == user.id,
            UserSession.revoked_at.is_(None),
        )
        .values(revoked_at=clock.now())
    )
    return rowcount(done) == 1


def revoke_own_token(user: User, token_id: int) -> bool:
    done = db.session.execute(
        update(ApiToken)
        .where(ApiToken.id == token_id, ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )
    return rowcount(done) == 1


def end_session(session_id: str | None) -> None:
    if not session_id:
        return
    db.session.execute(
        update(UserSession)
        .where(UserSession.id == session_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )


def sign_out_everywhere(user: User) -> None:
    """Every session and token of the user stops working."""
    user.session_version = User.session_version + 1
    now = clock.now()
    db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    db.session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    db.session.flush()
    db.session.refresh(user)


def change_password(user: User, current: str, new: str) -> None:
    if not user.password_hash or not verify_password(user.password_hash, current):
        raise AccountError(
            "invalid_credentials",
            _("The current password is not correct."),
            field="current_password",
        )
    user.password_hash = hash_password(new)
    sign_out_everywhere(user)


def issue_token(user: User, *, second_factor: bool = False) -> tuple[str, ApiToken]:
    raw = secrets.token_urlsafe(32)
    token = ApiToken(
        token_hash=hash_token(raw),
        user_id=user.id,
        session_version=user.session_version,
        second_factor_at=clock.now() if second_factor else None,
        expires_at=clock.now() + timedelta(days=current_app.config["API_TOKEN_DAYS"]),
    )
    db.session.add(token)
    db.session.flush()
    return raw, token


def revoke_token(token: ApiToken) -> None:
    token.revoked_at = clock.now()
    db.session.flush()


# --- email links -----------------------------------------------------------------------------


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def send_confirmation(user: User) -> None:
    token = _serializer("confirm-email").dumps({"id": user.id, "email": user.email})
    link = external_url("accounts.confirm_email", token=token)
    with force_locale(user.locale):
        subject = _("Confirm your email address for Commons")
        body = _(
            "Hello %(name)s,\n\nPlease confirm your email address by opening this link:\n"
            "%(link)s\n\nThe link is valid for 7 days. If you did not register, ignore this "
            "message.",
            name=user.display_name,
            link=link,
        )
    queue_email(user, subject, body, kind="confirm_email")


def confirm_email(token: str) -> User | None:
    try:
        data = _serializer("confirm-email").loads(token, max_age=CONFIRM_MAX_AGE)
    except (BadSignature, SignatureExpired):
        return None
    if not isinstance(data, dict):
        return None
    user = db.session.get(User, data.get("id"))
    if user is None or user.email is None or user.email != data.get("email"):
        return None
    if user.email_confirmed_at is None:
        user.email_confirmed_at = clock.now()
        db.session.flush()
    return user


def request_password_reset(email: str) -> None:
    """Queue a reset link when the address belongs to a confirmed account; silent otherwise."""
    user = find_by_email(email)
    if user is None or not user.email_confirmed:
        return
    token = _serializer("reset-password").dumps(
        {"id": user.id, "h": hash_token(user.password_hash or "")[:16]}
    )
    link = external_url("accounts.reset_password", token=token)
    with force_locale(user.locale):
        subject = _("Reset your Commons password")
        body = _(
            "Hello %(name)s,\n\nSomeone asked to reset the password of your account. To choose "
            "a new password, open this link within 2 hours:\n%(link)s\n\nIf it was not you, "
            "ignore this message; your password stays as it is.",
            name=user.display_name,
            link=link,
        )
    queue_email(user, subject, body, kind="reset_password")


def user_for_reset_token(token: str) -> User | None:
    try:
        data = _serializer("reset-password").loads(token, max_age=RESET_MAX_AGE)
    except (BadSignature, SignatureExpired):
        return None
    if not isinstance(data, dict):
        return None
    user = db.session.get(User, data.get("id"))
    # The token carries a digest of the old hash: once the password changes it stops working.
    if user is None or hash_token(user.password_hash or "")[:16] != data.get("h"):
        return None
    return user


def reset_password(user: User, new: str) -> None:
    user.password_hash = hash_password(new)
    sign_out_everywhere(user)


def set_preferences(
    user: User, *, locale: str | None = None, display_mode: str | None = None
) -> None:
    if locale is not None:
        user.locale = locale
    if display_mode is not None:
        user.display_mode = display_mode
    db.session.flush()


def update_profile(
    user: User,
    *,
    display_name: str | None = None,
    locale: str | None = None,
    email: str | None = None,
) -> None:
    """Change what was sent of the name, language and email address. A new address is kept
    unconfirmed and sent a confirmation link; one that another account has is refused."""
    if display_name is not None:
        user.display_name = display_name.strip()
    if locale is not None:
        user.locale = locale
    if email is not None:
        email = normalize_email(email)
        other = find_by_email(email)
        if other is not None and other.id != user.id:
            raise AccountError(
                "email_taken",
                _("This email address belongs to another account."),
                status=409,
                field="email",
            )
        if other is None:
            user.email = email
            user.email_confirmed_at = None
            db.session.flush()
            send_confirmation(user)
    db.session.flush()
