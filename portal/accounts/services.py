"""Account rules: registration, sign-in, sessions, tokens, passwords, email links."""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from limits import parse as parse_limit
from sqlalchemy import update

from portal.accounts.auth import hash_token
from portal.accounts.models import ApiToken, User, UserSession
from portal.accounts.passwords import dummy_hash, hash_password, verify_password
from portal.core import clock
from portal.core.urls import external_url
from portal.extensions import db, limiter
from portal.notifications.mail import queue_email

CONFIRM_MAX_AGE = 7 * 24 * 3600
RESET_MAX_AGE = 2 * 3600


class AccountError(Exception):
    def __init__(self, code: str, message: str, field: str | None = None):
        super().__init__(message)
        self.code, self.message, self.field = code, message, field


def normalize_email(email: str) -> str:
    local, _sep, domain = email.strip().rpartition("@")
    return f"{local}@{domain.lower()}" if local else email.strip()


def find_by_email(email: str) -> User | None:
    email = normalize_email(email)
    return db.session.scalar(db.select(User).where(db.func.lower(User.email) == email.lower()))


def register(email: str, display_name: str, password: str, locale: str) -> User:
    email = normalize_email(email)
    if find_by_email(email) is not None:
        raise AccountError(
            "email_taken", _("An account with this email address already exists."), "email"
        )
    user = User(
        email=email,
        display_name=display_name.strip(),
        locale=locale,
        password_hash=hash_password(password),
    )
    db.session.add(user)
    db.session.flush()
    send_confirmation(user)
    return user


# --- sign-in ---------------------------------------------------------------------------------


def _failure_key(email: str) -> str:
    return "login-failures:" + hash_token(normalize_email(email).lower())[:32]


def account_locked(email: str) -> bool:
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return False
    item = parse_limit(current_app.config["LOGIN_FAILURES_PER_ACCOUNT"])
    return not limiter.limiter.test(item, _failure_key(email))


def authenticate(email: str, password: str) -> User | None:
    """The user for these credentials, or None; failures count against the account."""
    user = find_by_email(email)
    if user is None:
        verify_password(dummy_hash(), password)
        ok = False
    else:
        ok = verify_password(user.password_hash, password)
    if not ok:
        if current_app.config.get("RATELIMIT_ENABLED", True):
            item = parse_limit(current_app.config["LOGIN_FAILURES_PER_ACCOUNT"])
            limiter.limiter.hit(item, _failure_key(email))
        return None
    return user


def start_session(user: User) -> UserSession:
    row = UserSession(
        id=secrets.token_urlsafe(32), user_id=user.id, session_version=user.session_version
    )
    db.session.add(row)
    db.session.flush()
    return row


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
    if not verify_password(user.password_hash, current):
        raise AccountError(
            "invalid_credentials", _("The current password is not correct."), "current_password"
        )
    user.password_hash = hash_password(new)
    sign_out_everywhere(user)


def issue_token(user: User) -> tuple[str, ApiToken]:
    raw = secrets.token_urlsafe(32)
    token = ApiToken(
        token_hash=hash_token(raw),
        user_id=user.id,
        session_version=user.session_version,
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
    if user is None or user.email != data.get("email"):
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
        {"id": user.id, "h": hash_token(user.password_hash)[:16]}
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
    if user is None or hash_token(user.password_hash)[:16] != data.get("h"):
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
