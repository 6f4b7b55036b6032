"""Who is asking: cookie sessions backed by a table, and bearer tokens for the API."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from flask import Flask, current_app, g, request, session
from sqlalchemy import and_, bindparam, exists, func, select, update
from sqlalchemy.orm import joinedload
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import Select

from portal.accounts.models import ApiToken, User, UserSession
from portal.core import clock
from portal.core.i18n import found_city_timezone
from portal.core.i18n import lazy_gettext as _l
from portal.extensions import db, login_manager
from portal.places.services import city_timezone_column
from portal.roles.permissions import known_to_hold_none

TOUCH_EVERY = timedelta(minutes=1)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


_statements: dict[str, Select[Any]] = {}


def _session_query():
    """Session row, user, unread count and the city's time zone in one round trip: every
    signed-in page starts here. Built once: building it cost more than running it."""
    stmt = _statements.get("session")
    if stmt is None:
        from portal.notifications.models import Notification

        n = Notification.__table__
        unread = (
            select(func.count(n.c.id))
            .where(n.c.user_id == User.id, n.c.read_at.is_(None))
            .scalar_subquery()
        )
        from portal.roles.models import RoleGrant

        staff = exists().where(RoleGrant.user_id == User.id)
        t = UserSession.__table__
        columns = [t.c.user_id, t.c.session_version, t.c.last_seen_at, t.c.revoked_at, unread]
        columns.append(staff)  # row[5]: whether the user holds any role at all
        columns.append(t.c.second_factor_at)  # row[6]: passed the staff second step
        # row[8], after the user: the city's time zone, which the page's dates need anyway.
        stmt = _statements["session"] = (
            select(*columns, User, city_timezone_column())
            .join_from(t, User, User.id == t.c.user_id)
            .where(t.c.id == bindparam("sid"))
            # The header of every page names the resident's community: joined here, not
            # asked for in a round trip of its own.
            .options(joinedload(User.community).lazyload("*"))
        )
    return stmt


class SignIn:
    """What the sign-in query read of this request's session."""

    __slots__ = (
        "holds_roles",
        "second_factor",
        "sid",
        "standing",
        "unread",
        "user",
        "user_id",
    )

    def __init__(self, sid: str, standing: str, row):
        self.sid, self.standing = sid, standing
        self.unread = row[4] or 0
        self.holds_roles = bool(row[5])
        self.second_factor = row[6] is not None
        self.user: User = row[7]
        self.user_id = self.user.id


def _standing(row, cookie_user_id) -> str:
    """Is the session valid: "valid", "touch" (valid, and its last-seen time is due an update),
    "idle" (timed out) or "invalid" (revoked, another user, or its user signed out
    everywhere)."""
    row_user_id, row_version, last_seen_at, revoked_at = row[:4]
    if revoked_at is not None or str(row_user_id) != str(cookie_user_id):
        return "invalid"
    if row[7].session_version != row_version:
        return "invalid"
    since = clock.now() - last_seen_at
    if since > timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"]):
        return "idle"
    return "touch" if since > TOUCH_EVERY else "valid"


_UNREAD = object()
_SIGN_IN = "commons.sign_in"


def read_sign_in() -> SignIn | None:
    """The sign-in query of this request, run once; None without a session. Kept with the
    request, not in ``g``, which outlives it when the app context was pushed around several
    requests (tests)."""
    found = request.environ.get(_SIGN_IN, _UNREAD)
    if found is not _UNREAD:
        return found
    request.environ[_SIGN_IN] = None
    sid = session.get("sid")
    if not sid or not isinstance(sid, str):
        return None
    row = db.session.execute(_session_query(), {"sid": sid}).first()
    if row is None:
        return None
    found = request.environ[_SIGN_IN] = SignIn(sid, _standing(row, session.get("_user_id")), row)
    found_city_timezone(row[8])
    return found


def _update_session(sid: str, **values) -> None:
    db.session.execute(update(UserSession).where(UserSession.id == sid).values(**values))


def touch(state: SignIn) -> None:
    """Note that the session is in use (due once a minute, see TOUCH_EVERY); kept with the
    request's own transaction when it succeeds (``core.database.install_request_transaction``:
    a request that fails leaves the note for the next one)."""
    _update_session(state.sid, last_seen_at=clock.now())
    state.standing = "valid"


def _load_from_session(user_id: str) -> User | None:
    state = read_sign_in()
    if state is None or state.standing == "invalid":
        return None
    if state.standing == "idle":
        _update_session(state.sid, revoked_at=clock.now())
        session.clear()
        return None
    if state.standing == "touch":
        touch(state)
    g.session_row_id = state.sid
    g.unread_count = (state.user_id, state.unread)
    if not state.holds_roles:
        known_to_hold_none(state.user_id)
    elif not state.second_factor:
        g.second_factor_due = True  # staff, second step not passed: ``accounts.mfa.gate``
    return state.user


def bearer_token() -> str | None:
    """The raw token of an ``Authorization: Bearer …`` header."""
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    return header[7:].strip() or None


TOKEN_USER_SECONDS = 300


def _token_user_key(token_hash: str) -> str:
    return f"token-user:{token_hash}"


def token_user_id(token_hash: str) -> int | None:
    """Whose valid token this is, for keying a per-person rate limit before the statement
    that checks the token runs; None for a token that signs no one in (its requests count
    per address). A valid token's user never changes, so the answer is kept in the app's
    cache (Redis, shared by every worker) for up to TOKEN_USER_SECONDS, never past the
    token's expiry: a client that keeps its token asks the database once in a while. A token
    revoked since is forgotten when its request fails to sign in (``forget_token``), so a
    leaked and revoked token cannot spend its owner's limit beyond that one request."""
    from portal.extensions import cache

    key = _token_user_key(token_hash)
    known = cache.get(key)
    if known is not None:
        return int(known)
    stmt = _statements.get("token_user")
    if stmt is None:
        t, u = ApiToken.__table__, User.__table__
        stmt = _statements["token_user"] = (
            select(t.c.user_id, t.c.expires_at)
            .join_from(t, u, u.c.id == t.c.user_id)
            .where(valid_token(t, u))
        )
    now = clock.now()
    row = db.session.execute(stmt, {"token_hash": token_hash, "now": now}).first()
    if row is None:
        return None
    left = int((row[1] - now).total_seconds())
    if left > 0:
        cache.set(key, row[0], timeout=min(left, TOKEN_USER_SECONDS))
    return row[0]


def forget_token(token_hash: str) -> None:
    from portal.extensions import cache

    cache.delete(_token_user_key(token_hash))


def user_from_bearer() -> tuple[User | None, int | None, bool]:
    """The user a bearer token stands for, the token's id, and whether the token lacks the
    second factor its staff user needs (then it signs nobody in)."""
    raw = bearer_token()
    if not raw:
        return None, None, False
    # Token and user in one round trip: the API's every signed-in request starts here.
    stmt = _statements.get("bearer")
    if stmt is None:
        t = ApiToken.__table__
        stmt = _statements["bearer"] = (
            select(t.c.id, User, lacks_second_factor(t, User.__table__))
            .join_from(t, User, User.id == t.c.user_id)
            .where(valid_token(t, User.__table__))
        )
    row = db.session.execute(stmt, {"token_hash": hash_token(raw), "now": clock.now()}).first()
    if row is None:
        return None, None, False
    return row[1], row[0], bool(row[2])


def lacks_second_factor(t, u) -> ColumnElement[bool]:
    """The token of table ``t`` was issued without the second factor that its user of table
    ``u``, staff, needs: it signs nobody in (the API says ``otp_required``). The one rule,
    for the bearer check and the one statement of the API's support alike."""
    from portal.roles.models import RoleGrant

    return and_(t.c.second_factor_at.is_(None), exists().where(RoleGrant.user_id == u.c.id))


def valid_token(t, u, token_hash=None, now=None) -> ColumnElement[bool]:
    """The token (of ``token_hash``, else of the ``:token_hash`` parameter) of table ``t``
    signs its user of table ``u`` in: not revoked, not expired at ``now`` (else ``:now``),
    issued since the user last signed out everywhere. The one statement of the API's support
    (``proposals.services.support_by_token``) checks the token with it too."""
    return and_(
        t.c.token_hash == (bindparam("token_hash") if token_hash is None else token_hash),
        t.c.revoked_at.is_(None),
        t.c.expires_at > (bindparam("now") if now is None else now),
        u.c.session_version == t.c.session_version,
    )


def install(app: Flask) -> None:
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please sign in to continue.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = None  # sessions are checked against the table instead
    login_manager.user_loader(_load_from_session)
