"""Engine set-up.

SQLite gets WAL, foreign keys, a busy timeout and BEGIN IMMEDIATE.

PostgreSQL (psycopg): a request that reads (GET, HEAD, OPTIONS) runs with a *lazy
transaction*: the connection is in autocommit mode, its SELECTs run without BEGIN/ROLLBACK
round trips, and BEGIN is sent just before its first statement that is not a SELECT (or before
a savepoint), so what such a request writes is as atomic as before. Under READ COMMITTED,
PostgreSQL's default and the level used here, every statement takes its own snapshot anyway,
so reads before the first write see what they would have seen in the transaction. A request
that reads has no business locking rows: a ``SELECT … FOR UPDATE`` there would hold its lock
for that one statement only. Every other request (POST, PUT, DELETE…) runs in one transaction
begun as usual. Every request's transaction is committed once, in one place
(``install_request_transaction``) when it answers with success, and rolled back otherwise.
The decision is the request's, never the statement's text.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable
from typing import Any, cast

from flask import has_request_context, request
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import event
from sqlalchemy.engine import CursorResult, Engine, Result
from sqlalchemy.sql import Executable

log = logging.getLogger(__name__)

LAZY = "commons_lazy_begin"
_lazy_engines: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()


READING_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Session(FlaskSession):
    """Flask-SQLAlchemy's session, routed to the lazy-transaction engine inside requests that
    read (GET, HEAD, OPTIONS); any other request runs in one transaction, begun as usual."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        engine = super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)
        if (
            bind is None
            and isinstance(engine, Engine)
            and has_request_context()
            and request.method in READING_METHODS
        ):
            return _lazy_engines.get(engine, engine)
        return engine


_KEEP_ON_ERROR = "commons.keep_on_error"


def keep_on_error(reason: str) -> None:
    """Keep what this request wrote although it answers with a client error (4xx): only for a
    write that records the refusal itself — the owner's notice of failed sign-ins, the audit
    entry of personal data shown again with a form's errors. Call it once the request's other
    changes are undone; what it keeps is still committed in the one place
    (``install_request_transaction``), and a server error (5xx) keeps nothing. ``reason``
    says why, for the reader of the code and the debugger."""
    request.environ[_KEEP_ON_ERROR] = reason


def kept_on_error() -> bool:
    """Did this request ask to keep its writes although it answers with an error?"""
    return has_request_context() and _KEEP_ON_ERROR in request.environ


def read(stmt: Executable, params: dict | None = None) -> Result:
    """Run ``stmt``, a statement that reads columns (not ORM entities), on the session's
    connection, flushed first as the session would flush itself before a query: the
    session's ORM path adds a third to a short statement's Python (some 70 calls) for rows
    that have nothing to load. The request's transaction is the session's, so the statement
    sees what the request wrote."""
    from portal.extensions import db

    session = db.session()
    session.flush()
    return session.connection().execute(stmt, params)


_AFTER_COMMIT = "commons.after_commit"


def after_commit(callback: Callable[[], object]) -> None:
    """Run ``callback`` once this request's changes are kept for good (after its one commit),
    and never if they are not: for what cannot be undone, such as deleting a stored file whose
    row the request removes. A callback that fails is logged; the answer stands, since the
    change it follows is kept."""
    request.environ.setdefault(_AFTER_COMMIT, []).append(callback)


_AFTER_ROLLBACK = "commons.after_rollback"


def after_rollback(callback: Callable[[], object]) -> None:
    """Run ``callback`` if this request's changes so far are not kept (an error answer, a
    failed commit, ``discard_changes``), and never if they are: for what was done outside the
    database and belongs to the rows being written, such as a stored photo file whose row
    would be rolled back. Outside a request (a command) nothing is registered."""
    if has_request_context():
        request.environ.setdefault(_AFTER_ROLLBACK, []).append(callback)


def discard_changes() -> None:
    """Undo what this request changed so far (a rule said no): its transaction is rolled back,
    what was done for it outside the database undone (``after_rollback``) and the work it
    meant to do after the commit dropped."""
    from portal.extensions import db

    db.session.rollback()
    if has_request_context():
        request.environ.pop(_AFTER_COMMIT, None)
        _run(_AFTER_ROLLBACK, "after-rollback")


def _run(key: str, what: str) -> None:
    for callback in request.environ.pop(key, ()):
        try:
            callback()
        except Exception:
            log.exception("%s work failed on %s %s", what, request.method, request.path)


def _run_after_commit() -> None:
    request.environ.pop(_AFTER_ROLLBACK, None)  # the rows stay: so does what they need
    _run(_AFTER_COMMIT, "after-commit")


def _undo_after_rollback() -> None:
    request.environ.pop(_AFTER_COMMIT, None)
    _run(_AFTER_ROLLBACK, "after-rollback")


def install_request_transaction(app) -> None:
    """The one commit of a request: what it changed (its view, or the sign-in's note that the
    session is in use) is kept when it answered with success; an error answer keeps nothing
    (a DomainError rolled back already, in its handler), unless the request asked to keep its
    record of the refusal (``keep_on_error``). Only a session that holds a transaction
    commits: a read that began none costs no round trip here. Views, services and loaders
    never commit; a view that must see a constraint fail (a race) flushes inside its ``try``.

    A commit that fails is not acknowledged: the error goes on to the error handlers (a 500
    page or JSON error), and the success message the view flashed is taken back."""
    from flask import session as cookie_session

    from portal.extensions import db

    @app.after_request
    def _commit(response):
        session = db.session()
        status = response.status_code
        if status < 400 or (status < 500 and kept_on_error()):
            if session.in_transaction():
                try:
                    session.commit()
                except Exception:
                    session.rollback()
                    _undo_after_rollback()
                    if "_flashes" in cookie_session:
                        cookie_session.pop("_flashes")  # "Saved." would be a lie
                    raise
            _run_after_commit()
        else:
            if session.in_transaction():
                session.rollback()
            _undo_after_rollback()
        return response


def configure_engine(engine: Engine) -> None:
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    elif engine.dialect.name == "postgresql" and engine.dialect.driver == "psycopg":
        _configure_lazy_begin(engine)


def _begin(conn) -> None:
    from psycopg.pq import TransactionStatus

    raw = conn.connection.dbapi_connection
    if raw.info.transaction_status == TransactionStatus.IDLE:
        raw.execute("BEGIN")


def _configure_lazy_begin(engine: Engine) -> None:
    _lazy_engines[engine] = engine.execution_options(isolation_level="AUTOCOMMIT", **{LAZY: True})

    @event.listens_for(engine, "before_execute")
    def _begin_before_write(conn, statement, _multiparams, _params, _execution_options):
        if conn.get_execution_options().get(LAZY) and not getattr(statement, "is_select", False):
            _begin(conn)

    @event.listens_for(engine, "savepoint")
    def _begin_before_savepoint(conn, _name):
        if conn.get_execution_options().get(LAZY):
            _begin(conn)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not the driver, issue BEGIN, so it can be IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA busy_timeout = 15000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # A deferred transaction that reads and then writes fails with SQLITE_BUSY under
        # concurrency in WAL mode instead of waiting; IMMEDIATE takes the write lock up front
        # and waits for it within busy_timeout.
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def rowcount(result: Result[Any]) -> int:
    """The rows an UPDATE or DELETE matched: the session's execute() types every result as a
    plain Result, though for such a statement it is the cursor's."""
    return cast("CursorResult[Any]", result).rowcount
