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

import weakref
from typing import Any, cast

from flask import has_request_context, request
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import event
from sqlalchemy.engine import CursorResult, Engine, Result

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


def install_request_transaction(app) -> None:
    """The one commit of a request: what it changed (its view, or the sign-in's note that the
    session is in use) is kept when it answered with success; an error answer keeps nothing
    (a DomainError rolled back already, in its handler). Only a session that holds a
    transaction commits: a read that began none costs no round trip here. A view may commit
    earlier itself (before a redirect, say); this then finds nothing left to do."""
    from portal.extensions import db

    @app.after_request
    def _commit(response):
        session = db.session()
        if session.in_transaction():
            if response.status_code < 400:
                session.commit()
            else:
                session.rollback()
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
