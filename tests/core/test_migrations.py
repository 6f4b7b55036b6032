"""The schema comes from the migrations, matches the models, and downgrades cleanly."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from portal import create_app
from portal.extensions import db as _db
from tests.conftest import scratch_database


def test_models_and_migrations_do_not_drift(app, db):
    conn = db.session.connection()  # the test's own connection holds SQLite's write lock
    ctx = MigrationContext.configure(conn, opts={"compare_type": True, "render_as_batch": True})
    diff = compare_metadata(ctx, _db.metadata)
    assert diff == [], f"models and migrations differ: {diff}"


def test_upgrade_downgrade_upgrade(tmp_path_factory):
    from flask_migrate import downgrade, upgrade

    url, drop = scratch_database(tmp_path_factory, "roundtrip")
    try:
        app = create_app(
            {"COMMONS_ENV": "testing", "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x"}
        )
        with app.app_context():
            upgrade()
            assert "users" in sa.inspect(_db.engine).get_table_names()
            downgrade(revision="base")
            tables = set(sa.inspect(_db.engine).get_table_names()) - {"alembic_version"}
            assert tables == set()
            upgrade()
            _db.engine.dispose()
    finally:
        drop()


def test_sqlite_runs_wal_with_foreign_keys(app, db):
    if _db.engine.dialect.name != "sqlite":
        return
    conn = db.session.connection()
    assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


def test_the_page_generation_sequence_comes_back_on_downgrade(tmp_path_factory):
    """0010 drops the sequence of the old signed-in page cache; its downgrade makes it again."""
    from flask_migrate import downgrade, upgrade

    url, drop = scratch_database(tmp_path_factory, "generation")
    if not url.startswith("postgresql"):
        pytest.skip("the sequence was PostgreSQL's only")
    sequences = "SELECT count(*) FROM pg_class WHERE relkind = 'S' AND relname = :n"
    try:
        app = create_app(
            {"COMMONS_ENV": "testing", "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x"}
        )
        with app.app_context():
            upgrade()
            with _db.engine.connect() as conn:
                n = {"n": "commons_page_generation"}
                assert conn.scalar(sa.text(sequences), n) == 0
                downgrade(revision="0009_proposal_hidden_at")
                assert conn.scalar(sa.text(sequences), n) == 1
            upgrade()
            _db.engine.dispose()
    finally:
        drop()
