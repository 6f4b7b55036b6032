"""0027 fills the rollup from the facts in SQL: the same rows the listener keeps."""

from __future__ import annotations

import sqlalchemy as sa

from portal.extensions import db as _db
from tests.conftest import real_scratch_database


def test_the_migration_fills_the_rollup_as_the_listener_does(tmp_path_factory):
    from flask_migrate import downgrade, upgrade

    from portal import create_app
    from portal.demo import load_demo
    from portal.demo.life import load_life

    def rows(conn):
        return sorted(
            tuple(str(v) for v in r)
            for r in conn.execute(
                sa.text(
                    "SELECT scope, scope_id, split, grain, period, kind, outcome, split_id,"
                    " bucket, n, answers, satisfied FROM dashboard_rollup WHERE n <> 0"
                )
            )
        )

    with real_scratch_database(tmp_path_factory, "rollupfill") as url:
        app = create_app(
            {"COMMONS_ENV": "testing", "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x"}
        )
        with app.app_context(), app.test_request_context("/"):
            upgrade()
            load_demo()
            _db.session.commit()
            assert load_life()  # proposals that became cases and moved along
            _db.session.commit()
            _db.session.close()
            with _db.engine.connect() as conn:
                kept = rows(conn)
            assert {r[0] for r in kept} == {"city", "district", "community", "agency"}
            assert {r[2] for r in kept} == {"", "agency", "category"}
            downgrade(revision="0026_staff_mfa")
            with _db.engine.connect() as conn:
                daily = conn.execute(sa.text("SELECT sum(n) FROM dashboard_daily")).scalar()
                city = sum(int(r[9]) for r in kept if r[:4] == ("city", "0", "", "d"))
                assert daily == city
            upgrade()
            with _db.engine.connect() as conn:
                assert rows(conn) == kept
            _db.engine.dispose()
