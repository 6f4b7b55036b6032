"""Who is asking: cookie sessions backed by a table, and bearer tokens for the API."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from flask import Flask, current_app, g, request, session
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, update

from portal.accounts.models import ApiToken, User, UserSession
from portal.core import clock
from portal.extensions import db, login_manager

TOUCH_EVERY = timedelta(minutes=1)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


_session_queries: dict[bool, object] = {}


def _session_query(with_generation: bool):
    """Session row and user in one round trip: every signed-in page starts here; with the
    unread count the header shows and, with the signed-in page cache, the generation its
    copies are checked against. Built once: building it cost more than running it."""
    stmt = _session_queries.get(with_generation)
    if stmt is None:
        from portal.core.private_cache import generation_column
        from portal.notifications.models import Notification

        unread = (
            db.select(func.count(Notification.id))
            .where(Notification.user_id == User.id, Notification.read_at.is_(None))
            .scalar_subquery()
        )
        # The session row as plain columns: only the user is an object the request keeps.
        t = UserSession.__table__
        columns = [t.c.user_id, t.c.session_version, t.c.last_seen_at, t.c.revoked_at, User, unread]
        if with_generation:
            columns.append(generation_column())
        stmt = _session_queries[with_generation] = (
            db.select(*columns).join(User, User.id == t.c.user_id).where(t.c.id == bindparam("sid"))
        )
    return stmt


def _update_session(sid: str, **values) -> None:
    db.session.execute(update(UserSession).where(UserSession.id == sid).values(**values))
    db.session.commit()


def _load_from_session(user_id: str) -> User | None:
    sid = session.get("sid")
    if not sid or not isinstance(sid, str):
        return None
    from portal.core.private_cache import enabled

    cached = enabled()
    found = db.session.execute(_session_query(cached), {"sid": sid}).first()
    if found is None:
        return None
    row_user_id, row_version, last_seen_at, revoked_at, user, unread_count = found[:6]
    if cached:
        g.page_generation = found[6]
    if revoked_at is not None or str(row_user_id) != str(user_id):
        return None
    if user.session_version != row_version:
        return None
    now = clock.now()
    idle = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    if now - last_seen_at > idle:
        _update_session(sid, revoked_at=now)
        session.clear()
        return None
    if now - last_seen_at > TOUCH_EVERY:
        # The session touch is committed on its own, before the request changes anything.
        _update_session(sid, last_seen_at=now)
    g.session_row_id = sid
    g.unread_count = (user.id, unread_count or 0)
    return user


def user_from_bearer() -> tuple[User | None, int | None]:
    """The user a bearer token stands for, and the token's id."""
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        return None, None
    raw = header[7:].strip()
    if not raw:
        return None, None
    # Token and user in one round trip: the API's every signed-in request starts here. The
    # token as plain columns: only the user is an object the request keeps.
    t = ApiToken.__table__
    row = db.session.execute(
        db.select(t.c.id, t.c.session_version, t.c.expires_at, t.c.revoked_at, User)
        .join(User, User.id == t.c.user_id)
        .where(t.c.token_hash == hash_token(raw))
    ).first()
    if row is None:
        return None, None
    token_id, version, expires_at, revoked_at, user = row
    if revoked_at is not None or expires_at <= clock.now():
        return None, None
    if user.session_version != version:
        return None, None
    return user, token_id


def install(app: Flask) -> None:
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please sign in to continue.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = None  # sessions are checked against the table instead
    login_manager.user_loader(_load_from_session)
