"""The schema comes from the migrations, matches the models, and downgrades cleanly."""

from __future__ import annotations

import os
import secrets

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from portal import create_app
from portal.extensions import db as _db


def test_models_and_migrations_do_not_drift(app, db):
    conn = db.session.connection()  # the test's own connection holds SQLite's write lock
    ctx = MigrationContext.configure(conn, opts={"compare_type": True, "render_as_batch": True})
    diff = compare_metadata(ctx, _db.metadata)
    assert diff == [], f"models and migrations differ: {diff}"


def _scratch_url(tmp_path) -> tuple[str, callable]:
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        return f"sqlite:///{tmp_path / 'roundtrip.sqlite3'}", lambda: None
    url = sa.engine.make_url(base)
    name = f"commons_roundtrip_{secrets.token_hex(4)}"
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop


def test_upgrade_downgrade_upgrade(tmp_path):
    from flask_migrate import downgrade, upgrade

    url, drop = _scratch_url(tmp_path)
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
