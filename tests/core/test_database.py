"""Lazy transactions on PostgreSQL: reads in a request that reads (GET) run without
BEGIN/ROLLBACK round trips, writes are as atomic as before (their transaction starts at the
first write); any other request runs in one transaction. Decided by the request, never by the
statement's text."""

from __future__ import annotations

from contextlib import nullcontext

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
        _db.session.execute(sa.text("SELECT 1"))  # not known to read: a transaction, to be safe
        assert _status() == "INTRANS"
        _db.session.rollback()


def test_read_sees_the_requests_writes_and_leaves_reads_lazy(app):
    """``core.database.read`` runs column reads on the session's connection: after what the
    request has written (flushed first, as the session would), and, in a GET on PostgreSQL,
    on the lazy transaction like any other read."""
    from portal.core.database import read
    from portal.places.models import City

    codes = sa.select(City.code).where(City.code == "990000")
    with app.app_context():
        lazy = _db.engine.dialect.name == "postgresql"
    # On SQLite the test's own connection holds the one write lock: the test's session.
    with app.test_request_context("/"), real_session() if lazy else nullcontext():
        assert read(codes).scalars().all() == []
        if lazy:
            assert _status() == "IDLE"
        _db.session.add(City(code="990000", name_zh="测试市", name_en="Test"))
        assert read(codes).scalars().all() == ["990000"]  # the pending city, flushed
        if lazy:
            assert _status() == "INTRANS"
        _db.session.rollback()
        assert read(codes).scalars().all() == []


def test_a_request_that_is_not_a_get_is_one_transaction(app, probe):
    with app.test_request_context("/", method="POST"), real_session():
        _db.session.execute(sa.select(sa.func.count()).select_from(probe))
        assert _status() == "INTRANS"  # begun as usual, with the first statement
        _db.session.execute(sa.insert(probe).values(id=1, v="a"))
        _db.session.execute(sa.insert(probe).values(id=2, v="b"))
        _db.session.rollback()
    assert _rows() == []


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


def test_outside_requests_sessions_are_transactional(app, probe):
    with app.app_context(), real_session():
        _db.session.execute(sa.select(sa.literal(1)))
        assert _status() == "INTRANS"
        _db.session.rollback()


def test_a_database_gone_away_costs_one_failure_not_one_per_pooled_connection(app):
    """After a restart one request fails, not one for each stale connection in the pool:
    SQLAlchemy gives up the whole pool when a statement finds the database gone."""
    with app.app_context():
        if _db.engine.dialect.name != "postgresql":
            pytest.skip("a PostgreSQL restart")
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

        def one():
            with engine.connect() as conn:
                return conn.execute(sa.select(sa.literal(1))).scalar()

        with pytest.raises(sa.exc.OperationalError):
            one()
        assert [one() for _ in range(3)] == [1, 1, 1]
    finally:
        engine.dispose()


def test_statements_never_share_compiled_sql(app, db):
    """Statements built and thrown away one after another (their ids reused by Python) each
    run as themselves."""
    for n in range(200):
        value = db.session.execute(sa.select(sa.literal(n) + sa.literal(n % 7))).scalar()
        assert value == n + n % 7
        names = (
            db.session.execute(sa.select(sa.literal(f"s{n}").label(f"c{n % 3}"))).mappings().one()
        )
        assert names == {f"c{n % 3}": f"s{n}"}
