"""Who is asking: cookie sessions backed by a table, and bearer tokens for the API."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from flask import Flask, current_app, g, request, session
from flask_babel import lazy_gettext as _l
from sqlalchemy import func

from portal.accounts.models import ApiToken, User, UserSession
from portal.core import clock
from portal.extensions import db, login_manager

TOUCH_EVERY = timedelta(minutes=1)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _load_from_session(user_id: str) -> User | None:
    sid = session.get("sid")
    if not sid or not isinstance(sid, str):
        return None
    # Session row and user in one round trip: every signed-in page starts here.
    from portal.notifications.models import Notification

    # ... and the unread count the header shows, in the same round trip.
    unread = (
        db.select(func.count(Notification.id))
        .where(Notification.user_id == User.id, Notification.read_at.is_(None))
        .scalar_subquery()
    )
    found = db.session.execute(
        db.select(UserSession, User, unread)
        .join(User, User.id == UserSession.user_id)
        .where(UserSession.id == sid)
    ).first()
    if found is None:
        return None
    row, user, unread_count = found
    if row.revoked_at is not None or str(row.user_id) != str(user_id):
        return None
    if user.session_version != row.session_version:
        return None
    now = clock.now()
    idle = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    if now - row.last_seen_at > idle:
        row.revoked_at = now
        db.session.commit()
        session.clear()
        return None
    if now - row.last_seen_at > TOUCH_EVERY:
        row.last_seen_at = now
        # The session touch is committed on its own, before the request changes anything.
        db.session.commit()
    g.session_row_id = row.id
    g.unread_count = (user.id, unread_count or 0)
    return user


def user_from_bearer() -> tuple[User | None, ApiToken | None]:
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        return None, None
    raw = header[7:].strip()
    if not raw:
        return None, None
    # Token and user in one round trip: the API's every signed-in request starts here.
    row = db.session.execute(
        db.select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == hash_token(raw))
    ).first()
    if row is None:
        return None, None
    token, user = row
    if token.revoked_at is not None or token.expires_at <= clock.now():
        return None, None
    if user.session_version != token.session_version:
        return None, None
    return user, token


def install(app: Flask) -> None:
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please sign in to continue.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = None  # sessions are checked against the table instead
    login_manager.user_loader(_load_from_session)
