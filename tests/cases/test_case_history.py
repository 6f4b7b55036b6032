"""Every case event keeps the case's clock as its step left it: the agency holding the case,
the current stage's due time and the handling limit. A re-route, an extension or a reopening
moves the case's due times; the earlier events still tell what they were."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from portal.cases import services as cases
from portal.cases.calendar import add_working_days
from portal.cases.models import Case, CaseEvent
from portal.core import clock
from portal.core.i18n import city_timezone_name
from portal.extensions import db as _db
from tests.cases.conftest import LIAISON
from tests.conftest import real_scratch_database, user_by_email


def _events(case: Case) -> dict[str, list[CaseEvent]]:
    out: dict[str, list[CaseEvent]] = {}
    rows = _db.session.scalars(
        sa.select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
    )
    for e in rows:
        out.setdefault(e.action, []).append(e)
    return out


def _due(start, days):
    return add_working_days(start, days, city_timezone_name())


def test_each_event_keeps_the_due_times_its_step_set(app, make_case, db):
    case = make_case("accepted")
    cat = case.category
    ev = _events(case)
    dispatch = ev["dispatch"][0]
    # The response limit is on record only here: the case row moved on to the handling limit.
    assert dispatch.stage_due_at == _due(case.dispatched_at, cat.response_days)
    assert dispatch.stage_due_at != case.stage_due_at
    assert dispatch.handling_due_at == case.handling_due_at
    assert dispatch.agency_id == case.agency_id
    accept = ev["accept"][0]
    assert accept.stage_due_at == accept.handling_due_at == case.handling_due_at

    first_limit = case.handling_due_at
    later = first_limit + timedelta(days=10)
    with app.test_request_context("/"):
        liaison, supervisor = user_by_email(LIAISON), user_by_email("supervisor@example.org")
        cases.act(liaison, case, "request_extension", note="需要采购", expected_at=later)
        cases.act(supervisor, case, "approve_extension")
    ev = _events(case)
    # The extension moved the limit it extends; the accept step still tells the old one.
    assert ev["approve_extension"][0].handling_due_at == later == case.handling_due_at
    assert ev["request_extension"][0].handling_due_at == first_limit
    assert ev["accept"][0].handling_due_at == first_limit


def test_a_reroute_starts_a_new_stage_for_the_new_agency_and_keeps_the_old_one(app, make_case, db):
    case = make_case("returned")
    first_agency, first_dispatch = case.agency_id, case.dispatched_at
    ret = _events(case)["return"][0]
    assert ret.stage_due_at is None and ret.agency_id == first_agency  # no clock while returned
    with app.test_request_context("/"):
        from portal.roles.models import Agency

        other = _db.session.scalar(sa.select(Agency).where(Agency.code == "civil-affairs-bureau"))
        cases.act(
            user_by_email("supervisor@example.org"), case, "reroute", note="转民政", agency=other
        )
    ev = _events(case)
    reroute = ev["reroute"][0]
    assert reroute.agency_id == other.id == case.agency_id
    assert reroute.stage_due_at == _due(case.dispatched_at, case.category.response_days)
    assert reroute.handling_due_at == case.handling_due_at
    # The first agency's stage stays on record: who held it, from when, due when.
    dispatch = ev["dispatch"][0]
    assert dispatch.agency_id == first_agency != case.agency_id
    assert abs(dispatch.created_at - first_dispatch) < timedelta(seconds=1)
    assert dispatch.stage_due_at == _due(first_dispatch, case.category.response_days)


def test_resolve_reopen_and_close_record_their_clocks(app, make_case, db):
    case = make_case("verifying")
    resolve = _events(case)["resolve"][0]
    assert resolve.stage_due_at == _due(case.resolved_at, case.category.verification_days)
    before = case.handling_due_at
    with app.test_request_context("/"):
        cases.act(
            user_by_email("gridworker@example.org"), case, "verify", passed=False, note="灯仍不亮"
        )
    reopen = _events(case)["reopen"][0]
    assert reopen.handling_due_at == case.handling_due_at == reopen.stage_due_at
    assert reopen.handling_due_at >= before
    with app.test_request_context("/"):
        cases.act(
            user_by_email("supervisor@example.org"),
            case,
            "close",
            note="无需处理",
            reason_code="no-further-action",
        )
    close = _events(case)["close"][0]
    assert close.stage_due_at is None and close.handling_due_at == case.handling_due_at


def test_the_migration_fills_the_newest_event_and_marks_the_older_ones(tmp_path_factory):
    """0021 cannot recover due times that later steps overwrote: the newest event of each
    case takes the case's own, the older keep an empty handling limit ("not recorded")."""
    from flask_migrate import downgrade, upgrade

    from portal import create_app
    from portal.demo import load_demo
    from portal.demo.life import load_life

    with real_scratch_database(tmp_path_factory, "eventdues") as url:
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
            downgrade(revision="0021_case_event_dues")
            downgrade(revision="-1")
            upgrade()
            with _db.engine.connect() as conn:
                rows = conn.execute(
                    sa.text(
                        "SELECT e.id, e.case_id, e.stage_due_at, e.handling_due_at,"
                        " c.stage_due_at, c.handling_due_at FROM case_events e"
                        " JOIN cases c ON c.id = e.case_id ORDER BY e.id"
                    )
                ).all()
            assert rows, "the demo has cases with events"
            newest = {}
            for r in rows:
                newest[r[1]] = r
            for r in rows:
                if newest[r[1]] is r:
                    assert (r[2], r[3]) == (r[4], r[5])
                    assert r[3] is not None
                else:
                    assert r[2] is None and r[3] is None
            _db.engine.dispose()


def test_every_case_event_is_written_by_record_event(app, make_case, db):
    """Meetings and the sweep add events through the one function, never a copy of it."""
    from pathlib import Path

    import portal

    root = Path(portal.__file__).parent
    writers = sorted(
        str(p.relative_to(root))
        for p in root.rglob("*.py")
        if "CaseEvent(" in p.read_text(encoding="utf-8")
    )
    assert writers == ["cases/models.py", "cases/services/_common.py"]
    case = make_case("accepted")
    with app.test_request_context("/"):
        ev = cases.record_event(case, "meeting_agenda", None, "committee", note="月度议事会")
    _db.session.flush()
    assert ev.agency_id == case.agency_id
    assert ev.handling_due_at == case.handling_due_at and ev.stage_due_at == case.stage_due_at
    assert ev.created_at <= clock.now()
