"""Who is asking: cookie sessions backed by a table, and bearer tokens for the API."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask, current_app, g, request, session
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, select, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.selectable import Select

from portal.accounts.models import ApiToken, User, UserSession
from portal.core import clock
from portal.core.database import alone_engine, run_alone
from portal.extensions import db, login_manager

TOUCH_EVERY = timedelta(minutes=1)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


_USER_COLUMNS = list(User.__table__.c)
_statements: dict[str, Select[Any]] = {}


def user_from_columns(values) -> User:
    """The persistent User of a row of its columns, without a query: the sign-in queries read
    the user as plain columns, which costs a third of loading it as an entity, and only the
    request that needs the object pays for building it."""
    mapper, attributes = _user_mapping()
    key = mapper.identity_key_from_primary_key((values[_COLUMN_INDEX["id"]],))
    known = db.session.identity_map.get(key)
    if known is not None:
        # Loaded already in this session: the one object, its expired attributes refreshed
        # from the row, as a query would.
        unloaded = sa_inspect(known).unloaded
        for attribute, value in zip(attributes, values, strict=True):
            if attribute in unloaded:
                set_committed_value(known, attribute, value)
        return known
    user = mapper.class_manager.new_instance()
    for attribute, value in zip(attributes, values, strict=True):
        set_committed_value(user, attribute, value)
    make_transient_to_detached(user)
    db.session.add(user)
    return user


_mapping: tuple | None = None


def _user_mapping() -> tuple:
    global _mapping
    if _mapping is None:
        from sqlalchemy.orm import configure_mappers

        configure_mappers()  # a new worker may build a user before its first query
        mapper = sa_inspect(User)
        _mapping = (mapper, [mapper.get_property_by_column(c).key for c in _USER_COLUMNS])
    return _mapping


def _session_query():
    """Session row, user and unread count in one round trip, as plain columns: every
    signed-in page starts here. Built once: building it cost more than running it."""
    stmt = _statements.get("session")
    if stmt is None:
        from portal.notifications.models import Notification

        n = Notification.__table__
        u = User.__table__
        unread = (
            select(func.count(n.c.id))
            .where(n.c.user_id == u.c.id, n.c.read_at.is_(None))
            .scalar_subquery()
        )
        t = UserSession.__table__
        columns = [t.c.user_id, t.c.session_version, t.c.last_seen_at, t.c.revoked_at, unread]
        stmt = _statements["session"] = (
            select(*columns, *_USER_COLUMNS)
            .join_from(t, u, u.c.id == t.c.user_id)
            .where(t.c.id == bindparam("sid"))
        )
    return stmt


class SignIn:
    """What the sign-in query read of this request's session, as plain values; the user
    object is built only when something asks for it."""

    __slots__ = ("_columns", "_user", "sid", "standing", "unread", "user_id")

    def __init__(self, sid: str, standing: str, row):
        self.sid, self.standing = sid, standing
        self.unread = row[4] or 0
        self._columns = row[5:]
        self.user_id = self._columns[0]
        self._user: User | None = None

    def column(self, name: str):
        return self._columns[_COLUMN_INDEX[name]]

    @property
    def user(self) -> User:
        if self._user is None:
            self._user = user_from_columns(self._columns)
        return self._user


_COLUMN_INDEX = {c.key: i for i, c in enumerate(_USER_COLUMNS)}


def _standing(row, cookie_user_id) -> str:
    """Is the session valid: "valid", "touch" (valid, and its last-seen time is due an update),
    "idle" (timed out) or "invalid" (revoked, another user, or its user signed out
    everywhere)."""
    row_user_id, row_version, last_seen_at, revoked_at = row[:4]
    user_version = row[-len(_USER_COLUMNS) + _COLUMN_INDEX["session_version"]]
    if revoked_at is not None or str(row_user_id) != str(cookie_user_id):
        return "invalid"
    if user_version != row_version:
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
    statement = _session_query()
    engine = alone_engine()
    row: Sequence[Any] | None
    if engine is None:
        row = db.session.execute(statement, {"sid": sid}).first()
    else:
        # Every signed-in request starts here: the driver's row on a connection of its own,
        # its timestamps in UTC as the columns' type gives them.
        row = run_alone(engine, statement, {"sid": sid})
        if row is not None:
            row = tuple(_utc(v) if isinstance(v, datetime) else v for v in row)
    if row is None:
        return None
    found = request.environ[_SIGN_IN] = SignIn(sid, _standing(row, session.get("_user_id")), row)
    return found


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _update_session(sid: str, **values) -> None:
    db.session.execute(update(UserSession).where(UserSession.id == sid).values(**values))
    db.session.commit()


def touch(state: SignIn) -> None:
    """Note that the session is in use (due once a minute, see TOUCH_EVERY); committed on its
    own, before the request changes anything."""
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
    return state.user


def bearer_token() -> str | None:
    """The raw token of an ``Authorization: Bearer …`` header."""
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    return header[7:].strip() or None


_token_users: OrderedDict[str, tuple[int, datetime]] = OrderedDict()
_token_users_lock = threading.Lock()
TOKEN_USERS_KEPT = 10_000


def token_user_id(token_hash: str) -> int | None:
    """Whose valid token this is, for keying a per-person rate limit before the statement
    that checks the token runs; None for a token that signs no one in (its requests count
    per address). A valid token's user never changes, so the answer is kept per process (the
    most recent TOKEN_USERS_KEPT tokens, each until it expires): a client that keeps its token
    asks the database once. A token revoked since is forgotten when its request fails to
    sign in (``forget_token``), so a leaked and revoked token cannot spend its owner's limit
    beyond that one request."""
    now = clock.now()
    with _token_users_lock:
        known = _token_users.get(token_hash)
        if known is not None and known[1] > now:
            _token_users.move_to_end(token_hash)
            return known[0]
    stmt = _statements.get("token_user")
    if stmt is None:
        t, u = ApiToken.__table__, User.__table__
        stmt = _statements["token_user"] = (
            select(t.c.user_id, t.c.expires_at)
            .join_from(t, u, u.c.id == t.c.user_id)
            .where(*_valid_token(t, u))
        )
    row = db.session.execute(stmt, {"token_hash": token_hash, "now": now}).first()
    with _token_users_lock:
        if row is None:
            _token_users.pop(token_hash, None)
            return None
        _token_users[token_hash] = (row[0], row[1])
        while len(_token_users) > TOKEN_USERS_KEPT:
            _token_users.popitem(last=False)
    return row[0]


def forget_token(token_hash: str) -> None:
    with _token_users_lock:
        _token_users.pop(token_hash, None)


def user_from_bearer() -> tuple[User | None, int | None]:
    """The user a bearer token stands for, and the token's id."""
    raw = bearer_token()
    if not raw:
        return None, None
    # Token and user in one round trip, as plain columns: the API's every signed-in request
    # starts here.
    stmt = _statements.get("bearer")
    if stmt is None:
        t, u = ApiToken.__table__, User.__table__
        stmt = _statements["bearer"] = (
            select(t.c.id, *_USER_COLUMNS)
            .join_from(t, u, u.c.id == t.c.user_id)
            .where(*_valid_token(t, u))
        )
    row = db.session.execute(stmt, {"token_hash": hash_token(raw), "now": clock.now()}).first()
    if row is None:
        return None, None
    return user_from_columns(row[1:]), row[0]


def _valid_token(t, u) -> list:
    """The token of ``:token_hash`` signs its user in: not revoked, not expired at ``:now``,
    issued since the user last signed out everywhere. The support's statement has the same
    rules in its text (``proposals.services._SUPPORT_BY_TOKEN``)."""
    return [
        t.c.token_hash == bindparam("token_hash"),
        t.c.revoked_at.is_(None),
        t.c.expires_at > bindparam("now"),
        u.c.session_version == t.c.session_version,
    ]


def install(app: Flask) -> None:
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please sign in to continue.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = None  # sessions are checked against the table instead
    login_manager.user_loader(_load_from_session)
