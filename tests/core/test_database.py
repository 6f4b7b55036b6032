"""Lazy transactions on PostgreSQL: reads in a request run without BEGIN/ROLLBACK round trips,
writes are as atomic as before (their transaction starts at the first write)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.extensions import db as _db
from tests.conftest import real_session


@pytest.fixture
def probe(app):
    with app.app_context():
        if _db.engine.dialect.name != "postgresql":
            pytest.skip("lazy transactions are PostgreSQL's (SQLite has its BEGIN IMMEDIATE)")
        with _db.engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE IF EXISTS lazy_probe"))
            conn.execute(sa.text("CREATE TABLE lazy_probe (id integer PRIMARY KEY, v text)"))
        try:
            yield sa.table("lazy_probe", sa.column("id"), sa.column("v"))
        finally:
            with _db.engine.begin() as conn:
                conn.execute(sa.text("DROP TABLE lazy_probe"))


def _status():
    from psycopg.pq import TransactionStatus

    raw = _db.session.connection().connection.dbapi_connection
    return TransactionStatus(raw.info.transaction_status).name


def _rows():
    with _db.engine.connect() as conn:
        return conn.execute(sa.text("SELECT id, v FROM lazy_probe ORDER BY id")).all()


def test_reads_leave_no_transaction_open(app, probe):
    with app.test_request_context("/"), real_session():
        assert _db.session.execute(sa.select(sa.func.count()).select_from(probe)).scalar() == 0
        assert _status() == "IDLE"  # no BEGIN was sent: nothing to roll back either
        # A locking read is a write as far as transactions go.
        _db.session.execute(sa.select(probe.c.id).with_for_update())
        assert _status() == "INTRANS"
        _db.session.rollback()


def test_writes_are_atomic_from_the_first_write(app, probe):
    with app.test_request_context("/"), real_session():
        _db.session.execute(sa.select(sa.literal(1)))
        _db.session.execute(sa.insert(probe).values(id=1, v="a"))
        assert _status() == "INTRANS"
        _db.session.execute(sa.insert(probe).values(id=2, v="b"))
        _db.session.rollback()
    assert _rows() == []
    with app.test_request_context("/"), real_session():
        _db.session.execute(sa.insert(probe).values(id=1, v="a"))
        _db.session.execute(sa.insert(probe).values(id=2, v="b"))
        _db.session.commit()
    assert [r.id for r in _rows()] == [1, 2]


def test_a_savepoint_first_opens_the_transaction(app, probe):
    with app.test_request_context("/"), real_session():
        try:
            with _db.session.begin_nested():
                _db.session.execute(sa.insert(probe).values(id=1, v="a"))
                raise RuntimeError("undo the savepoint")
        except RuntimeError:
            pass
        _db.session.execute(sa.insert(probe).values(id=2, v="b"))
        _db.session.commit()
    assert [r.id for r in _rows()] == [2]


def test_a_single_statement_commits_alone(app, probe):
    with app.test_request_context("/"), real_session():
        _db.session.execute(
            sa.insert(probe)
            .values(id=1, v="alone")
            .execution_options(commons_single_statement=True)
        )
        assert _status() == "IDLE"  # committed with its own round trip
        _db.session.execute(sa.insert(probe).values(id=2, v="later"))
        _db.session.rollback()  # undoes what came after, not the statement that stood alone
    assert [r.v for r in _rows()] == ["alone"]


def test_outside_requests_sessions_are_transactional(app, probe):
    with app.app_context(), real_session():
        _db.session.execute(sa.select(sa.literal(1)))
        assert _status() == "INTRANS"
        _db.session.rollback()


def test_what_needs_a_transaction():
    from portal.core.database import _writes

    assert not _writes(sa.select(sa.literal(1)))
    assert not _writes(sa.text("SELECT 1"))
    assert not _writes(sa.text("select id from t").columns(sa.column("id")))
    assert _writes(sa.select(sa.literal(1)).with_for_update())
    assert _writes(sa.text("SELECT id FROM t WHERE id = 1 FOR UPDATE"))
    assert _writes(sa.text("SELECT pg_advisory_xact_lock(1)"))
    assert _writes(sa.text("UPDATE t SET v = 1"))
    assert _writes(sa.text("WITH x AS (DELETE FROM t RETURNING id) SELECT id FROM x"))
    t = sa.table("t", sa.column("id"))
    assert _writes(sa.insert(t).values(id=1))
    added = sa.insert(t).values(id=1).returning(t.c.id).cte("added")
    assert _writes(sa.select(added.c.id).add_cte(added))


def test_a_database_gone_away_costs_one_failure_not_one_per_pooled_connection(app):
    """The statements run by the driver directly (``run_alone``: the sign-in, the support)
    give up the whole pool when they find the database gone, as SQLAlchemy does: after a
    restart one request fails, not one for each stale connection."""
    import psycopg

    from portal.core.database import run_alone

    with app.app_context():
        if _db.engine.dialect.name != "postgresql":
            pytest.skip("run_alone is PostgreSQL's")
        url = _db.engine.url
    # A pool of its own: the tests' rolled-back connection is not to be dropped with it.
    engine = sa.create_engine(url, pool_size=3, max_overflow=0)
    try:
        held = [engine.raw_connection() for _ in range(3)]
        pids = [raw.driver_connection.info.backend_pid for raw in held]
        for raw in held:
            raw.close()
        # The database drops those three (as a restart would), seen from outside the pool.
        other = sa.create_engine(url, poolclass=sa.pool.NullPool)
        with other.connect() as conn:
            for pid in pids:
                conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        other.dispose()
        one = sa.text("SELECT 1")
        with pytest.raises(psycopg.OperationalError):
            run_alone(engine, one, {})
        assert [run_alone(engine, one, {})[0] for _ in range(3)] == [1, 1, 1]
    finally:
        engine.dispose()
