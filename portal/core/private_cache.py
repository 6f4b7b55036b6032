"""A cache of staff work lists for the session that asked for them (PostgreSQL only).

The pages in PRIVATE_CACHEABLE (a liaison's or supervisor's cases, a grid worker's checks, the
committee's moderation and review queues) are reloaded often and change seldom. A copy is kept
per process, keyed by the session, the path and everything of the signed-in person the layout
shows (language, display mode, community, unread count), and is served only while:

- the session is still valid: every request still runs the sign-in query, so a signed-out or
  revoked session never sees a copy;
- nothing that such a page can show has changed anywhere: each committed transaction that
  wrote something other than the quiet writes below bumps ``commons_page_generation``, a
  PostgreSQL sequence (not transactional: every worker sees the bump at once, without a lock),
  after its commit; the sign-in query reads the sequence in the same round trip, and a copy
  made under an older value is never served;
- it is younger than PRIVATE_PAGE_CACHE_SECONDS (30 by default), for what changes with the
  clock alone ("overdue");
- no flash message is waiting, and rendering the page did not change the session.

Quiet writes are those no cached page shows: supports and the proposal's support count (a
support a second must not empty the cache; the count is not on these pages), session touches,
API tokens, notifications (the unread count is in the key instead), the outbox and the audit
log. Pages that write on a GET (the residency queue logs each view of personal data) are never
cached, so a copy cannot skip a write.
"""

from __future__ import annotations

import logging
import time
from itertools import chain

from flask import Flask, Response, current_app, g, request, session
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.dml import Insert, UpdateBase

from portal.core.cache import PageStore, storable

PRIVATE_CACHEABLE = {
    "cases.liaison",
    "cases.supervisor",
    "cases.grid_worker",
    "deliberation.workspace",
    "proposals.review_queue",
}
QUIET_TABLES = {"supports", "user_sessions", "api_tokens", "notifications", "outbox", "audit_log"}
QUIET_COLUMNS = {"proposals": {"support_count", "last_activity_at"}}
# The sequence made by migration 0008.
CURRENT_GENERATION = "(SELECT last_value FROM commons_page_generation)"
NEXT_GENERATION = "SELECT nextval('commons_page_generation')"
MAX_ENTRIES = 1000
CHANGED = "commons_page_changed"

_store = PageStore(MAX_ENTRIES)
log = logging.getLogger(__name__)


def enabled() -> bool:
    return bool(current_app.extensions.get("commons_private_cache"))


# --- what changed ------------------------------------------------------------------------------


def _loud_statement(statement) -> bool:
    """Does this DML (or text) statement change something a cached page may show?"""
    options = statement.get_execution_options() if isinstance(statement, Executable) else {}
    declared = options.get("commons_writes")
    if declared is not None:
        return any(_loud(*w.partition(".")[::2]) for w in declared)
    if isinstance(statement, UpdateBase):
        table = getattr(statement.table, "name", None)
        if table is None:
            return True
        values = getattr(statement, "_values", None)
        if isinstance(statement, Insert) or not values:
            return _loud(table, "")
        return any(_loud(table, getattr(c, "key", str(c))) for c in values)
    sql = getattr(statement, "text", "").lstrip()[:6].upper()
    return bool(sql) and sql not in ("SELECT", "SHOW")


def _loud(table: str, column: str) -> bool:
    if table in QUIET_TABLES:
        return False
    return not (column and column in QUIET_COLUMNS.get(table, ()))


def _note_flush(session, _flush_context) -> None:
    if session.info.get(CHANGED):
        return
    for obj in chain(session.new, session.dirty, session.deleted):
        table = inspect(obj).mapper.local_table.name
        if table not in QUIET_TABLES:
            session.info[CHANGED] = True
            return


def _note_statement(state) -> None:
    if state.is_select or state.session.info.get(CHANGED):
        return
    if _loud_statement(state.statement):
        state.session.info[CHANGED] = True


def _bump_after_commit(session) -> None:
    if session.info.pop(CHANGED, False):
        bump()


def bump() -> None:
    """A change was committed: pages cached before it are not served any more, in any process."""
    from portal.extensions import db

    if not enabled():
        return
    try:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(NEXT_GENERATION)
    except Exception:
        # The change is committed already: never fail its request for the cache's sake.
        # Copies made before it are still dropped when they turn PRIVATE_PAGE_CACHE_SECONDS old.
        log.exception("could not bump the page generation")


def generation_column():
    """The current generation, for the sign-in query to read in its round trip."""
    from sqlalchemy import literal_column

    return literal_column(CURRENT_GENERATION)


# --- serving -----------------------------------------------------------------------------------


def _key() -> tuple | None:
    """The key of this request's copy, from the sign-in query alone: a copy is served without
    building the user (or anything else of the request), which is most of what a hit cost."""
    if request.method != "GET" or request.endpoint not in PRIVATE_CACHEABLE:
        return None
    if "Authorization" in request.headers or "_flashes" in session:
        return None
    from portal.accounts.auth import read_sign_in

    state = read_sign_in()
    if state is None or state.standing not in ("valid", "touch") or state.generation is None:
        return None
    return (
        state.sid,
        request.full_path,
        state.column("locale"),
        state.column("display_mode"),
        state.column("community_id"),
        state.unread,
    )


def install(app: Flask) -> None:
    ttl = app.config.get("PRIVATE_PAGE_CACHE_SECONDS", 0)
    uri = app.config.get("SQLALCHEMY_DATABASE_URI") or ""
    if not ttl or not uri.startswith("postgresql"):
        return
    app.extensions["commons_private_cache"] = True
    if not event.contains(Session, "after_flush", _note_flush):
        event.listen(Session, "after_flush", _note_flush)
        event.listen(Session, "do_orm_execute", _note_statement)
        # A rolled-back change keeps its mark: the next commit of the request bumps once too
        # many (harmless), where clearing it could miss a change a savepoint did not undo.
        event.listen(Session, "after_commit", _bump_after_commit)

    @app.before_request
    def _serve_private():
        key = _key()
        if key is None:
            return None
        g.private_cache_key = key
        from portal.accounts.auth import read_sign_in, touch

        state = read_sign_in()  # read by _key() already: there is a sign-in
        if state is None:
            return None
        hit = _store.get(key)
        if hit is None:
            return None
        expires, generation, status, headers, body = hit
        if generation != state.generation or expires < time.monotonic():
            _store.drop(key)
            return None
        if state.standing == "touch":
            touch(state)  # as the sign-in would have done (a quiet write: no page shows it)
        g.signed_in_response = True
        response = Response(body, status=status, headers=headers)
        response.headers["X-Page-Cache"] = "private-hit"
        return response

    @app.after_request
    def _store_private(response: Response) -> Response:
        key = g.pop("private_cache_key", None)
        if key is None or response.headers.get("X-Page-Cache") == "private-hit":
            return response
        if session.modified or not storable(response) or "page_generation" not in g:
            return response
        _store.put(key, ttl, g.page_generation, response)
        response.headers["X-Page-Cache"] = "private-miss"
        return response
