"""Agencies' answers to agenda items on the dashboard: on time, late, missed, waiting, over the
invitations due in the period of meetings that were published."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from portal.core import clock
from portal.extensions import db as _db
from portal.meetings import services as meetings
from portal.meetings.models import Invitation, MeetingState
from portal.roles.models import Agency
from portal.transparency.dashboard import figures as F
from portal.transparency.dashboard.rollup import city_tz
from tests.conftest import user_by_email


def _agency(code: str) -> Agency:
    return _db.session.scalar(sa.select(Agency).where(Agency.code == code))


def _meeting(app, community, *, state: MeetingState = MeetingState.published):
    committee = user_by_email("committee@example.org")
    start = clock.now() + timedelta(days=20)
    with app.test_request_context("/"):
        m = meetings.create_meeting(
            committee,
            community,
            meetings.Details("居民议事会", "议程", start, start + timedelta(hours=2), "活动室"),
        )
        item = meetings.add_item(committee, m, topic="路灯", note="背景")
    now = clock.now()
    if state != MeetingState.draft:
        m.published_at = now
    if state == MeetingState.cancelled:
        m.cancelled_at, m.cancel_reason = now, "场地不可用"
    m.state = state
    _db.session.flush()
    return item


def _invite(item, agency, due_days: float, answered_days: float | None = None) -> None:
    now = clock.now()
    due = now + timedelta(days=due_days)
    answered = None if answered_days is None else now + timedelta(days=answered_days)
    _db.session.add(
        Invitation(
            item_id=item.id,
            agency_id=agency.id,
            due_at=due,
            created_at=now - timedelta(days=20),
            state="answered" if answered else "open",
            answered_at=answered,
        )
    )
    _db.session.flush()


def _period():
    today = clock.now().astimezone(city_tz()).date()
    return today - timedelta(days=29), today + timedelta(days=10)


def test_answers_on_time_late_missed_and_waiting(app, db, community, community_b):
    health, civil = _agency("health-commission"), _agency("civil-affairs-bureau")

    def item():  # one agenda item each: an agency is invited once per item
        return _meeting(app, community)

    _invite(item(), health, -5, answered_days=-6)  # on time
    _invite(item(), health, -5, answered_days=-2)  # late
    _invite(item(), health, -3)  # missed
    _invite(item(), health, 3)  # still waiting
    _invite(item(), civil, -1, answered_days=-1.5)  # on time
    _invite(_meeting(app, community, state=MeetingState.draft), health, -2)  # never sent
    _invite(_meeting(app, community, state=MeetingState.cancelled), civil, -2)  # none due
    _invite(item(), civil, -60)  # due before the period
    start, end = _period()
    now = clock.now()
    city = F.agenda_answers(F.Scope("city"), start, end, now)
    assert (city[None].num, city[None].den, city[None].extra["waiting"]) == (2, 4, 1)
    assert (city[health.id].num, city[health.id].den) == (1, 3)
    assert city[health.id].percent == 33
    assert (city[civil.id].num, city[civil.id].den) == (1, 1)
    mine = F.agenda_answers(F.Scope("community", community), start, end, now)[None]
    assert (mine.num, mine.den) == (2, 4)
    elsewhere = F.agenda_answers(F.Scope("community", community_b), start, end, now)[None]
    assert (elsewhere.num, elsewhere.den, elsewhere.value) == (0, 0, None)
    as_agency = F.agenda_answers(F.Scope("agency", civil), start, end, now)
    assert (as_agency[None].num, as_agency[None].den) == (1, 1)


def test_the_dashboard_shows_the_figure_and_ranks_an_agency_that_only_answered_agendas(
    app, db, client, community
):
    civil = _agency("civil-affairs-bureau")
    _invite(_meeting(app, community), civil, -1, answered_days=-2)
    db.session.commit()
    html = client.get("/dashboard?period=30d&sort=agenda").get_data(as_text=True)
    assert "Agenda answers on time" in html or "议程书面答复按时率" in html
    assert civil.name("zh_Hans") in html or civil.name("en") in html
    assert 'aria-sort="descending"' in html


def test_unknown_agency_or_district_codes_are_refused_at_their_field(app, client, login_as):
    """Found by wapiti: an agency code that names none was a 500. The field says so once, in
    its own words (not also WTForms' "Not a valid choice")."""
    import re

    said = {"agency": "没有使用该代码的职能部门。", "district": "没有使用该代码的区。"}
    for query in ("agency=id", "agency=%22%3E%3Cscript%3E", "district=999999"):
        for signed_in in (False, True):
            c = app.test_client()
            if signed_in:
                login_as("resident", c)
            r = c.get(f"/dashboard?{query}")
            assert r.status_code == 400, query
            html = r.get_data(as_text=True)
            name = query.split("=")[0]
            errors = re.findall(rf'<p class="error" id="{name}-error">(.*?)</p>', html, re.S)
            assert len(errors) == 1, query
            assert said[name] in errors[0] and "不是有效的选择" not in errors[0], errors
            r = c.get(f"/dashboard/cases?{query}")  # the cases of no such place or agency
            assert r.status_code == 404, query
