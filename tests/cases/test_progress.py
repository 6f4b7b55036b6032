"""Where a case stands, in words: working days left or overdue in the city calendar, the
deadline named for what it is, the stages in the order they happened, the case page."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from portal.cases import services as cases
from portal.cases.calendar import set_day
from portal.core import clock
from portal.core.i18n import force_locale
from tests.cases.conftest import people
from tests.conftest import user_by_email

# Beijing is UTC+8: 16:00 UTC is midnight there.


def _at(y, m, d, hour_beijing=10):
    return datetime(y, m, d, hour_beijing - 8, 0, tzinfo=UTC)


def _end_of(y, m, d):
    return datetime(y, m, d, 15, 59, 59, tzinfo=UTC)  # 23:59:59 Beijing


@pytest.mark.parametrize(
    ("now", "due", "expected"),
    [
        # Thursday 24 Sept 2026, due at the end of Monday 28: Friday and Monday are left.
        (_at(2026, 9, 24), _end_of(2026, 9, 28), (False, 2)),
        # Due at the end of today: nothing after today, but not overdue ("Due today").
        (_at(2026, 9, 24), _end_of(2026, 9, 24), (False, 0)),
        # Saturday, due Monday night: one working day (Monday).
        (_at(2026, 9, 26), _end_of(2026, 9, 28), (False, 1)),
        # Due Friday night, seen Monday morning: one working day overdue (Monday).
        (_at(2026, 9, 28), _end_of(2026, 9, 25), (True, 1)),
        # Due Friday night, seen on Saturday: overdue, by less than a working day.
        (_at(2026, 9, 26), _end_of(2026, 9, 25), (True, 0)),
        # Due Tuesday night, seen Friday morning: Wednesday, Thursday, Friday.
        (_at(2026, 9, 25), _end_of(2026, 9, 22), (True, 3)),
        # Just after midnight in Beijing (still the previous day in UTC) counts the local day.
        (datetime(2026, 9, 24, 16, 30, tzinfo=UTC), _end_of(2026, 9, 28), (False, 1)),
    ],
)
def test_working_days_left_and_overdue(app, db, now, due, expected):
    with app.test_request_context("/"):
        assert cases.working_days_left(due, now) == expected


def test_working_days_follow_the_city_calendar(app, db):
    # National Day: 1–7 October off, Saturday 10 October a make-up working day (调休).
    for d in range(1, 8):
        set_day(date(2026, 10, d), False, "国庆节")
    set_day(date(2026, 10, 10), True, "调休")
    with app.test_request_context("/"):
        # From 30 September to the end of Saturday 10 October: 8, 9 and 10 October.
        assert cases.working_days_left(_end_of(2026, 10, 10), _at(2026, 9, 30)) == (False, 3)
        # Overdue since the end of 30 September, seen on 9 October: 8 and 9 October.
        assert cases.working_days_left(_end_of(2026, 9, 30), _at(2026, 10, 9)) == (True, 2)


@pytest.mark.parametrize(
    ("overdue", "n", "zh", "en"),
    [
        (False, 3, "还剩 3 个工作日", "3 working days left"),
        (False, 1, "还剩 1 个工作日", "1 working day left"),
        (False, 0, "今天截止", "Due today"),
        (True, 2, "已超期 2 个工作日", "Overdue by 2 working days"),
        (True, 1, "已超期 1 个工作日", "Overdue by 1 working day"),
        (True, 0, "已超期，不足 1 个工作日", "Overdue by less than a working day"),
    ],
)
def test_deadline_words(app, overdue, n, zh, en):
    d = cases.Deadline("handling", _end_of(2026, 9, 28), overdue, n)
    with app.test_request_context("/"):
        with force_locale("zh_Hans"):
            assert (d.label, d.remaining) == ("处置时限", zh)
        with force_locale("en"):
            assert (d.label, d.remaining) == ("Handling due", en)


def _stage(case):
    return [
        (s.key, "current" if s.current else "done" if s.done else "todo")
        for s in cases.steps(case, cases.timeline(case))
    ]


def _act(app, case, who, action, **kw):
    with app.test_request_context("/"):
        cases.act(people()[who], case, action, **kw)


def test_deadline_kind_follows_the_state(app, make_case, db):
    case = make_case("dispatched")
    with app.test_request_context("/"):
        assert cases.deadline(case).kind == "acceptance"
        assert cases.deadline(case).due_at == case.stage_due_at
    _act(app, case, "liaison", "accept")
    with app.test_request_context("/"):
        assert cases.deadline(case).kind == "handling"
        assert cases.deadline(case).due_at == case.handling_due_at
    _act(app, case, "liaison", "plan", note="本周", expected_at=clock.now() + timedelta(days=2))
    _act(app, case, "liaison", "resolve", note="已修好")
    with app.test_request_context("/"):
        assert cases.deadline(case).kind == "verification"
        # Lists leave the calendar out: no count, only whether it is overdue.
        assert cases.deadline(case, count=False).working_days is None


def test_steps_in_the_order_they_happened(app, make_case, db):
    case = make_case("dispatched")
    todo = [("handle", "todo"), ("verify", "todo"), ("close", "todo")]
    assert _stage(case) == [
        ("file", "done"),
        ("dispatch", "done"),
        ("accept", "current"),
        *todo,
    ]
    _act(app, case, "liaison", "return", note="不属于本部门")
    assert _stage(case) == [
        ("file", "done"),
        ("dispatch", "done"),
        ("return", "current"),
        ("accept", "todo"),
        *todo,
    ]
    from portal.roles.models import Agency

    other = db.session.scalar(
        db.select(Agency).where(
            Agency.district_id == case.agency.district_id, Agency.id != case.agency_id
        )
    )
    _act(app, case, "supervisor", "reroute", note="改派", agency=other)
    assert _stage(case)[3:5] == [("dispatch", "done"), ("accept", "current")]
    liaison = user_by_email(f"liaison.{other.code}@example.org")
    with app.test_request_context("/"):
        cases.act(liaison, case, "accept")
        cases.act(liaison, case, "plan", note="计划", expected_at=clock.now() + timedelta(days=1))
        cases.act(liaison, case, "progress", note="进展")
    assert _stage(case)[-4:] == [
        ("accept", "done"),
        ("handle", "current"),
        ("verify", "todo"),
        ("close", "todo"),
    ]
    with app.test_request_context("/"):
        cases.act(liaison, case, "resolve", note="已处置")
    _act(app, case, "grid_worker", "verify", note="没修好", passed=False)  # reopens at once
    assert _stage(case)[-5:] == [
        ("handle", "done"),
        ("verify", "done"),
        ("rework", "current"),
        ("verify", "todo"),
        ("close", "todo"),
    ]
    with app.test_request_context("/"):
        cases.act(liaison, case, "resolve", note="返工完成")
    _act(app, case, "supervisor", "close", note="结案", reason_code="no-further-action")
    stages = _stage(case)
    assert stages[-3:] == [("rework", "done"), ("verify", "done"), ("close", "current")]
    assert [k for k, _s in stages] == [
        "file",
        "dispatch",
        "return",
        "dispatch",
        "accept",
        "handle",
        "verify",
        "rework",
        "verify",
        "close",
    ]
    with app.test_request_context("/"), force_locale("zh_Hans"):
        assert cases.stage_text(case) == "已结案：无需进一步处理"
        assert cases.deadline(case) is None


def test_a_case_line_escapes_what_it_is_given_and_says_its_limit_and_close(app):
    """``CaseLines`` writes HTML in Python: every value escaped (an agency's name, a number),
    the limit's label and what remains, the close, and no link when asked for none."""
    from datetime import UTC, datetime, timedelta

    from portal.cases.cards import CaseLines
    from portal.cases.models import CaseState
    from portal.cases.services.progress import AgencyName, CaseBrief, Deadline
    from portal.core.i18n import force_locale

    due = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    case = CaseBrief(
        1,
        "X-<1>",
        CaseState.accepted,
        due,
        None,
        None,
        0,
        AgencyName("a", "<b>局</b>", "<b>Bureau</b>"),
    )
    with app.test_request_context("/"), force_locale("en"):
        lines = CaseLines()
        html = str(lines(case, Deadline("handling", due, True)))
        assert "<b>" not in html and "&lt;b&gt;Bureau&lt;/b&gt;" in html
        assert "Case X-&lt;1&gt;" in html and 'href="/cases/X-%3C1%3E"' in html
        assert 'class="tag warn">Overdue</span>' in html
        assert f'<time datetime="{due.isoformat()}">' in html
        closed = case._replace(state=CaseState.closed, closed_at=due + timedelta(days=1))
        plain = str(lines(closed, link=False))
        assert "<a " not in plain and "closed " in plain and plain.endswith("</p>")
