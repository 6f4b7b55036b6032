"""Engine set-up.

SQLite gets WAL, foreign keys, a busy timeout and BEGIN IMMEDIATE.

PostgreSQL (psycopg) requests run with *lazy transactions*: the connection is in autocommit
mode and BEGIN is sent just before the first statement that writes or locks (or before a
savepoint). A request that only reads therefore costs one round trip per query instead of
BEGIN + queries + ROLLBACK; a request that writes is as atomic as before, its transaction
starting at its first write. Under READ COMMITTED, PostgreSQL's default and the level used
here, every statement takes its own snapshot anyway, so the reads before the first write see
exactly what they saw inside the transaction. A statement marked
``execution_options(commons_single_statement=True)`` is atomic on its own and, when nothing
has been written before it, runs without a transaction of its own (the support of a proposal,
a data-modifying CTE, commits in the one round trip).
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any, cast

from flask import has_request_context
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import event
from sqlalchemy.engine import CursorResult, Engine, Result
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.sql.selectable import Select

if TYPE_CHECKING:
    import psycopg

LAZY = "commons_lazy_begin"
SINGLE_STATEMENT = "commons_single_statement"
_lazy_engines: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()


class Session(FlaskSession):
    """Flask-SQLAlchemy's session, routed to the lazy-transaction engine inside requests."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        engine = super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)
        if bind is None and isinstance(engine, Engine) and has_request_context():
            return _lazy_engines.get(engine, engine)
        return engine


def alone_engine() -> Engine | None:
    """The engine to run a statement on with ``run_alone``: PostgreSQL through psycopg, the
    request's session bound to an engine (not to a connection of the caller's, as in the
    tests) and holding nothing yet; else None, and the statement goes through the session."""
    from portal.extensions import db

    session = db.session()
    bind = session.get_bind()
    if (
        not isinstance(bind, Engine)
        or bind.dialect.name != "postgresql"
        or bind.dialect.driver != "psycopg"
        or session.in_transaction()
    ):
        return None
    return bind


_driver_sql: dict[int, str] = {}


def run_alone(engine: Engine, statement: ClauseElement, params: dict[str, Any]) -> Any:
    """Run one statement on a pooled connection of its own, by the driver, in autocommit;
    return its first row as the driver gives it (timestamps in the connection's zone). For
    the hottest statements (the sign-in, the support): the session's and the engine's layers
    around one statement cost twice what the statement did. The connection goes back to the
    pool as the pool gave it (not in autocommit), or is thrown away with the rest of the pool
    if the statement found the database gone.
    """
    sql = _driver_sql.get(id(statement))
    if sql is None:  # as SQLAlchemy renders it for psycopg: %(name)s placeholders, %% escaped
        sql = _driver_sql[id(statement)] = str(statement.compile(dialect=engine.dialect))
    raw = engine.raw_connection()
    # alone_engine() is PostgreSQL through psycopg only.
    driver = cast("psycopg.Connection[Any]", raw.driver_connection)
    try:
        driver.autocommit = True
        row = driver.execute(sql, params).fetchone()
        driver.autocommit = False
        return row
    except Exception as err:
        if driver.closed or driver.broken:
            # The database went away (a restart, say): as SQLAlchemy does on a disconnect,
            # every pooled connection is given up, not only this one, so that one request
            # fails instead of one for each stale connection in the pool.
            raw.invalidate(err)
            engine.dispose()
        else:
            driver.autocommit = False
        raise
    finally:
        raw.close()


def configure_engine(engine: Engine) -> None:
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    elif engine.dialect.name == "postgresql" and engine.dialect.driver == "psycopg":
        _configure_lazy_begin(engine)


_LOCKING_WORDS = ("FOR UPDATE", "FOR SHARE", "FOR NO KEY", "FOR KEY SHARE", "ADVISORY")


def _writes(statement) -> bool:
    """Does this statement need a transaction: it writes, locks, or it cannot be told?"""
    if isinstance(statement, UpdateBase):
        return True
    if isinstance(statement, Select):
        # A SELECT that locks, or that carries a data-modifying CTE.
        if statement._for_update_arg is not None:
            return True
        return any(
            isinstance(getattr(cte, "element", None), UpdateBase)
            for cte in getattr(statement, "_independent_ctes", ())
        )
    sql = statement if isinstance(statement, str) else getattr(statement, "text", None)
    if sql is None:
        sql = getattr(getattr(statement, "element", None), "text", None)  # text().columns()
    if sql is None:
        return True  # some other construct: a transaction, to be safe
    head = sql.lstrip()[:6].upper()
    if head not in ("SELECT", "SHOW"):
        return True
    upper = sql.upper()
    return any(word in upper for word in _LOCKING_WORDS)


def _begin(conn) -> None:
    from psycopg.pq import TransactionStatus

    raw = conn.connection.dbapi_connection
    if raw.info.transaction_status == TransactionStatus.IDLE:
        raw.execute("BEGIN")


def _configure_lazy_begin(engine: Engine) -> None:
    _lazy_engines[engine] = engine.execution_options(isolation_level="AUTOCOMMIT", **{LAZY: True})

    @event.listens_for(engine, "before_execute")
    def _begin_before_write(conn, statement, _multiparams, _params, execution_options):
        if not conn.get_execution_options().get(LAZY):
            return
        options = statement.get_execution_options() if isinstance(statement, Executable) else {}
        if execution_options.get(SINGLE_STATEMENT) or options.get(SINGLE_STATEMENT):
            return
        if _writes(statement):
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
