"""Meetings: the lifecycle, the agenda, invitations and written answers, registrations,
questions, minutes and decisions — each rule and refusal, through the API and the pages."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from icalendar import Calendar

from portal.cases.models import CaseEvent
from portal.core import clock
from portal.meetings import services as meetings
from portal.meetings.models import Meeting, Registration
from portal.notifications.models import Notification
from portal.roles.models import Agency
from tests.conftest import user_by_email
from tests.meetings.conftest import LIAISON, OTHER_LIAISON

TZ = ZoneInfo("Asia/Shanghai")


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _types(user_email: str) -> list[str]:
    from portal.extensions import db

    uid = user_by_email(user_email).id
    return list(db.session.scalars(sa.select(Notification.type).where(Notification.user_id == uid)))


def _create(client, headers, **over):
    start = clock.now() + timedelta(days=10)
    body = {
        "community_code": "110101001001",
        "title": "议事会 <script>",
        "description": "本月议题",
        "starts_at": iso(start),
        "ends_at": iso(start + timedelta(hours=2)),
        "location": "社区活动室",
        **over,
    }
    return client.post("/api/v1/meetings", json=body, headers=headers)


# --- creating and changing -------------------------------------------------------------------


def test_committee_creates_a_draft_that_only_it_sees(client, anon, api_token):
    com = api_token("committee")
    r = _create(client, com, capacity=30)
    assert r.status_code == 201, r.get_json()
    m = r.get_json()
    assert m["state"] == "draft" and m["capacity"] == 30 and m["items"] == []
    assert anon.get(f"/api/v1/meetings/{m['id']}").status_code == 404
    assert anon.get(f"/meetings/{m['id']}").status_code == 404
    assert client.get(f"/api/v1/meetings/{m['id']}", headers=com).status_code == 200
    assert client.get("/api/v1/meetings?community=110101001001").get_json()["items"] == []


def test_create_refusals(client, api_token):
    com = api_token("committee")
    assert _create(client, api_token("resident")).status_code == 403
    assert _create(client, api_token("committee_b")).status_code == 403
    start = clock.now() + timedelta(days=3)
    r = _create(client, com, starts_at=iso(start), ends_at=iso(start - timedelta(hours=1)))
    assert r.status_code == 400
    assert r.get_json()["error"]["code"] == "validation_failed"
    assert "ends_at" in r.get_json()["error"]["fields"]
    past = clock.now() - timedelta(days=1)
    r = _create(client, com, starts_at=iso(past), ends_at=iso(past + timedelta(hours=1)))
    assert r.status_code == 400 and "starts_at" in r.get_json()["error"]["fields"]
    r = _create(client, com, location="")
    assert r.status_code == 400 and "location" in r.get_json()["error"]["fields"]
    r = _create(client, com, community_code="999999999999")
    assert r.status_code == 400
    assert _create(client, com, capacity=0).status_code == 400
    from portal.extensions import db

    assert db.session.scalar(sa.select(sa.func.count(Meeting.id))) == 0  # nothing half-saved


def test_items_of_this_community_only(
    client, api_token, make_meeting, make_proposal, make_case, community_b
):
    com = api_token("committee")
    m = make_meeting(topics=())
    open_p = make_proposal("open")
    case = make_case("accepted")
    other = make_proposal(
        "open", community_=community_b, author=user_by_email("resident.b@example.org")
    )
    draft = make_proposal("draft")
    url = f"/api/v1/meetings/{m.id}/items"
    r = client.post(url, json={"proposal_id": open_p.id, "note": "居民反映"}, headers=com)
    assert r.status_code == 201 and r.get_json()["position"] == 1
    r = client.post(url, json={"case_number": case.number}, headers=com)
    assert r.status_code == 201 and r.get_json()["kind"] == "case"
    r = client.post(url, json={"topic": "垃圾分类"}, headers=com)
    assert r.get_json()["position"] == 3
    for body, field in (
        ({"proposal_id": other.id}, "proposal_id"),
        ({"proposal_id": draft.id}, "proposal_id"),
        ({"proposal_id": open_p.id}, "proposal_id"),  # twice
        ({"case_number": "NOPE-1"}, "case_number"),
    ):
        r = client.post(url, json=body, headers=com)
        assert r.status_code == 400, body
        assert field in r.get_json()["error"]["fields"]
    r = client.post(url, json={"topic": "a", "proposal_id": open_p.id}, headers=com)
    assert r.status_code == 400
    # Another community's committee does not know a draft exists.
    assert (
        client.post(url, json={"topic": "x"}, headers=api_token("committee_b")).status_code == 404
    )
    # Reorder through PATCH; a wrong list is refused.
    ids = [
        it["id"] for it in client.get(f"/api/v1/meetings/{m.id}", headers=com).get_json()["items"]
    ]
    r = client.patch(f"/api/v1/meetings/{m.id}", json={"item_order": ids[::-1]}, headers=com)
    assert r.status_code == 200
    assert [it["id"] for it in r.get_json()["items"]] == ids[::-1]
    r = client.patch(f"/api/v1/meetings/{m.id}", json={"item_order": ids[:1]}, headers=com)
    assert r.status_code == 400


def test_item_from_another_community_case(client, api_token, make_meeting, make_case, community_b):
    m = make_meeting(topics=())
    case_b = make_case("accepted", community_=community_b)
    r = client.post(
        f"/api/v1/meetings/{m.id}/items",
        json={"case_number": case_b.number},
        headers=api_token("committee"),
    )
    assert r.status_code == 400 and "case_number" in r.get_json()["error"]["fields"]


# --- invitations -----------------------------------------------------------------------------


def test_default_deadline_is_three_working_days_before_on_the_city_calendar(app, make_meeting):
    from portal.cases.calendar import set_day

    # A Thursday meeting: due the Monday before, at the end of the day (city time).
    start = datetime(2031, 3, 13, 19, 0, tzinfo=TZ)
    with app.test_request_context("/"):
        due = meetings.default_due(start.astimezone(UTC))
        assert due.astimezone(TZ) == datetime(2031, 3, 10, 23, 59, 59, tzinfo=TZ)
        set_day(date(2031, 3, 11), False, "假日")  # Tuesday off: one more day back
        due = meetings.default_due(start.astimezone(UTC))
        assert due.astimezone(TZ).date() == date(2031, 3, 7)  # the Friday before


def test_invitation_rules(client, api_token, make_meeting):
    com = api_token("committee")
    m = make_meeting(publish=True)
    item = m.items[0].id
    url = f"/api/v1/agenda-items/{item}/invitations"
    r = client.post(url, json={"agency_code": "health-commission"}, headers=com)
    assert r.status_code == 201, r.get_json()
    inv = r.get_json()
    assert inv["status"] == "open"
    assert datetime.fromisoformat(inv["due_at"]) == meetings.default_due(m.starts_at)
    r = client.post(url, json={"agency_code": "health-commission"}, headers=com)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "already_invited"
    r = client.post(url, json={"agency_code": "no-such-agency"}, headers=com)
    assert r.status_code == 400 and "agency_code" in r.get_json()["error"]["fields"]
    late = iso(m.starts_at + timedelta(minutes=1))
    r = client.post(url, json={"agency_code": "culture-sports-bureau", "due_at": late}, headers=com)
    assert r.status_code == 400 and "due_at" in r.get_json()["error"]["fields"]
    r = client.post(
        url, json={"agency_code": "culture-sports-bureau"}, headers=api_token("resident")
    )
    assert r.status_code == 403


def test_an_inactive_agency_takes_no_new_invitation(client, api_token, make_meeting, login_as):
    """The admin makes an agency inactive from the agencies page (audited); inviting it is
    refused at the field, and the invitation form no longer offers it."""
    com = api_token("committee")
    m = make_meeting(publish=True)
    url = f"/api/v1/agenda-items/{m.items[0].id}/invitations"
    login_as("admin")
    r = client.form("/admin/agencies/culture-sports-bureau/active", {"active": "0"})
    assert r.status_code == 302
    page = client.get("/admin/agencies").get_data(as_text=True)
    assert "已停用：不再接受新的邀请" in page  # the admin reads Chinese
    listed = client.get("/api/v1/agencies").get_json()["items"]
    assert {a["code"]: a["active"] for a in listed}["culture-sports-bureau"] is False
    r = client.post(url, json={"agency_code": "culture-sports-bureau"}, headers=com)
    assert r.status_code == 400 and "agency_code" in r.get_json()["error"]["fields"]
    login_as("committee")
    meeting_page = client.get(f"/meetings/{m.id}").get_data(as_text=True)
    assert 'value="culture-sports-bureau"' not in meeting_page
    assert 'value="health-commission"' in meeting_page
    login_as("admin")
    client.form("/admin/agencies/culture-sports-bureau/active", {"active": "1"})
    r = client.post(url, json={"agency_code": "culture-sports-bureau"}, headers=com)
    assert r.status_code == 201


def test_publish_tells_liaisons_and_proposal_people_and_the_case_timeline(
    client, api_token, make_meeting, make_proposal, make_case
):
    com = api_token("committee")
    m = make_meeting(topics=())
    r = client.post(f"/api/v1/meetings/{m.id}/publish", headers=com)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "agenda_empty"
    p = make_proposal("open")
    case = make_case("accepted")
    for body in ({"proposal_id": p.id}, {"case_number": case.number}):
        assert (
            client.post(f"/api/v1/meetings/{m.id}/items", json=body, headers=com).status_code == 201
        )
    item = client.get(f"/api/v1/meetings/{m.id}", headers=com).get_json()["items"][0]["id"]
    client.post(
        f"/api/v1/agenda-items/{item}/invitations",
        json={"agency_code": "health-commission"},
        headers=com,
    )
    assert "invitation_received" not in _types(LIAISON)  # not while a draft
    r = client.post(f"/api/v1/meetings/{m.id}/publish", headers=com)
    assert r.status_code == 200 and r.get_json()["state"] == "published"
    assert "invitation_received" in _types(LIAISON)
    assert "meeting_published" in _types(LIAISON)
    assert "agenda_published" in _types("resident1@example.org")
    from portal.extensions import db

    actions = db.session.scalars(sa.select(CaseEvent.action).where(CaseEvent.case_id == case.id))
    assert "meeting_agenda" in list(actions)
    assert client.post(f"/api/v1/meetings/{m.id}/publish", headers=com).status_code == 409
    page = client.get(f"/cases/{case.number}").get_data(as_text=True)
    assert f"/meetings/{m.id}#item-" in page


def test_change_while_published_is_told_and_refused_once_started(
    client, api_token, make_meeting, app
):
    com = api_token("committee")
    m = make_meeting(publish=True)
    resident = user_by_email("resident2@example.org")
    with app.test_request_context("/"):
        meetings.register(resident, m)
        meetings.invite(
            user_by_email("committee@example.org"), m.items[0], _agency("health-commission")
        )
    from portal.extensions import db

    db.session.commit()
    new_start = m.starts_at + timedelta(days=1)
    r = client.patch(
        f"/api/v1/meetings/{m.id}",
        json={"starts_at": iso(new_start), "ends_at": iso(new_start + timedelta(hours=1))},
        headers=com,
    )
    assert r.status_code == 200, r.get_json()
    assert "meeting_changed" in _types("resident2@example.org")
    assert "meeting_changed" in _types(LIAISON)
    clock.freeze(new_start + timedelta(minutes=5))
    r = client.patch(f"/api/v1/meetings/{m.id}", json={"location": "礼堂"}, headers=com)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "meeting_started"
    r = client.post(f"/api/v1/meetings/{m.id}/items", json={"topic": "迟到的"}, headers=com)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "meeting_started"


def _agency(code: str) -> Agency:
    from portal.extensions import db

    return db.session.scalar(sa.select(Agency).where(Agency.code == code))


# --- answers ---------------------------------------------------------------------------------


@pytest.fixture
def invited(app, db, make_meeting, committee):
    m = make_meeting(publish=True)
    with app.test_request_context("/"):
        inv = meetings.invite(committee, m.items[0], _agency("health-commission"))
        db.session.commit()
    return m, inv


def test_liaison_answers_draft_then_publishes_then_cannot_edit(client, api_token, invited):
    m, inv = invited
    liaison = api_token(LIAISON)
    r = client.get("/api/v1/agencies/health-commission/invitations?status=open", headers=liaison)
    assert r.status_code == 200 and [i["id"] for i in r.get_json()["items"]] == [inv.id]
    assert (
        client.get(
            "/api/v1/agencies/health-commission/invitations", headers=api_token(OTHER_LIAISON)
        ).status_code
        == 403
    )
    body = {
        "body": "我委将派员出席 <script>",
        "commitments": [{"text": "增设义诊点", "due_on": "2031-06-30"}],
        "attendee_role": "副主任",
        "publish": False,
    }
    url = f"/api/v1/invitations/{inv.id}/answer"
    assert client.post(url, json=body, headers=api_token(OTHER_LIAISON)).status_code == 403
    r = client.post(url, json=body, headers=liaison)
    assert r.status_code == 200 and r.get_json()["state"] == "draft"
    public = client.get(f"/api/v1/meetings/{m.id}").get_json()
    assert public["items"][0]["invitations"][0]["answer"] is None  # a draft is not public
    r = client.post(url, json={**body, "publish": True}, headers=liaison)
    assert r.status_code == 200 and r.get_json()["state"] == "published"
    public = client.get(f"/api/v1/meetings/{m.id}").get_json()
    answer = public["items"][0]["invitations"][0]
    assert answer["status"] == "answered"
    assert answer["answer"]["commitments"] == [{"text": "增设义诊点", "due_on": "2031-06-30"}]
    assert answer["answer"]["attendee_role"] == "副主任"
    r = client.post(url, json=body, headers=liaison)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "answer_published"
    r = client.post(url, json={"body": "", "publish": True}, headers=liaison)
    assert r.status_code in (400, 409)
    assert (
        client.get(
            "/api/v1/agencies/health-commission/invitations?status=open", headers=liaison
        ).get_json()["items"]
        == []
    )


def test_answer_refusals(client, api_token, invited):
    _m, inv = invited
    url = f"/api/v1/invitations/{inv.id}/answer"
    liaison = api_token(LIAISON)
    r = client.post(
        url,
        json={"body": "x", "commitments": [{"text": "", "due_on": "2031-01-01"}]},
        headers=liaison,
    )
    assert r.status_code == 400
    r = client.post(
        url, json={"body": "x", "commitments": [{"text": "a", "due_on": "soon"}]}, headers=liaison
    )
    assert r.status_code == 400
    assert client.post(url, json={"body": "x"}, headers=api_token("resident")).status_code == 403


def test_missed_deadline_is_public_and_counted_per_agency(client, invited, app):
    m, inv = invited
    agency = _agency("health-commission")
    assert meetings.missed_by_agency([agency.id]) == {}
    clock.freeze(inv.due_at + timedelta(minutes=1))
    assert meetings.missed_by_agency([agency.id]) == {agency.id: 1}
    data = client.get(f"/api/v1/meetings/{m.id}").get_json()
    assert data["items"][0]["invitations"][0]["status"] == "missed"
    client.get("/?lang=en")
    page = client.get(f"/meetings/{m.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "no written answer by the deadline" in page


def test_sweep_reminds_a_day_before_the_deadline_once(app, invited):
    _m, inv = invited
    clock.freeze(inv.due_at - timedelta(hours=20))
    with app.test_request_context("/"):
        assert meetings.remind_due_soon() == 1
        assert meetings.remind_due_soon() == 0
    assert "invitation_due_soon" in _types(LIAISON)


def test_sweep_command(app, invited):
    _m, inv = invited
    clock.freeze(inv.due_at - timedelta(hours=2))
    result = app.test_cli_runner().invoke(args=["meetings", "sweep"])
    assert result.exit_code == 0 and "1 invitations reminded" in result.output


# --- registrations ---------------------------------------------------------------------------


def test_capacity_waitlist_and_promotion_in_order(client, api_token, make_meeting, make_user):
    m = make_meeting(capacity=1, publish=True)
    a, b, c = make_user(), make_user(), make_user()
    url = f"/api/v1/meetings/{m.id}/registration"
    r = client.post(url, headers=api_token(a))
    assert r.status_code == 201 and r.get_json()["state"] == "registered"
    r = client.post(url, headers=api_token(b))
    assert r.get_json() == {**r.get_json(), "state": "waitlisted", "waitlist_position": 1}
    r = client.post(url, headers=api_token(c))
    assert r.get_json()["waitlist_position"] == 2
    r = client.post(url, headers=api_token(a))
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "already_registered"
    assert client.delete(url, headers=api_token(a)).status_code == 204
    from portal.extensions import db

    rows = dict(
        db.session.execute(
            sa.select(Registration.user_id, Registration.state).where(
                Registration.meeting_id == m.id
            )
        ).all()
    )
    assert rows == {b.id: "registered", c.id: "waitlisted"}
    assert "registration_promoted" in _types(b.email)
    r = client.delete(url, headers=api_token(a))
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "not_registered"
    counts = client.get(f"/api/v1/meetings/{m.id}").get_json()["registration"]
    assert counts["registered"] == 1 and counts["waitlisted"] == 1


def test_one_registration_per_person_in_the_database(db, make_meeting, make_user):
    m = make_meeting(publish=True)
    u = make_user()
    db.session.add(Registration(meeting_id=m.id, user_id=u.id, state="registered"))
    db.session.flush()
    db.session.add(Registration(meeting_id=m.id, user_id=u.id, state="registered"))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()


def test_register_refusals(client, api_token, make_meeting):
    draft = make_meeting()
    assert (
        client.post(
            f"/api/v1/meetings/{draft.id}/registration", headers=api_token("resident")
        ).status_code
        == 404
    )
    m = make_meeting(publish=True)
    r = client.post(
        f"/api/v1/meetings/{m.id}/cancel",
        json={"reason": "场地维修"},
        headers=api_token("committee"),
    )
    assert r.status_code == 200 and r.get_json()["state"] == "cancelled"
    r = client.post(f"/api/v1/meetings/{m.id}/registration", headers=api_token("resident"))
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "meeting_cancelled"
    m2 = make_meeting(publish=True, days=1)
    clock.freeze(m2.starts_at + timedelta(minutes=1))
    r = client.post(f"/api/v1/meetings/{m2.id}/registration", headers=api_token("resident"))
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "meeting_started"


def test_cancel_needs_a_public_reason_and_tells_registrants(client, api_token, make_meeting, app):
    m = make_meeting(publish=True)
    client.post(f"/api/v1/meetings/{m.id}/registration", headers=api_token("resident2"))
    com = api_token("committee")
    r = client.post(f"/api/v1/meetings/{m.id}/cancel", json={"reason": " "}, headers=com)
    assert r.status_code == 400
    r = client.post(f"/api/v1/meetings/{m.id}/cancel", json={"reason": "台风预警"}, headers=com)
    assert r.status_code == 200 and r.get_json()["cancel_reason"] == "台风预警"
    assert "meeting_cancelled" in _types("resident2@example.org")
    assert "台风预警" in client.get(f"/meetings/{m.id}").get_data(as_text=True)
    r = client.post(f"/api/v1/meetings/{m.id}/cancel", json={"reason": "again"}, headers=com)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "meeting_cancelled"


# --- calendar files --------------------------------------------------------------------------


def test_ics_of_a_meeting_and_the_community_feed(client, make_meeting, api_token):
    m = make_meeting(publish=True)
    gone = make_meeting(publish=True, days=12, title="取消的会")
    client.post(
        f"/api/v1/meetings/{gone.id}/cancel",
        json={"reason": "改期"},
        headers=api_token("committee"),
    )
    draft = make_meeting(title="草稿会")
    r = client.get(f"/meetings/{m.id}.ics")
    assert r.status_code == 200 and r.mimetype == "text/calendar"
    cal = Calendar.from_ical(r.data)
    events = list(cal.walk("VEVENT"))
    assert len(events) == 1
    ev = events[0]
    assert str(ev["summary"]) == m.title
    assert ev.decoded("dtstart") == m.starts_at and ev.decoded("dtend") == m.ends_at
    assert str(ev["location"]) == "社区活动室"
    assert client.get(f"/meetings/{draft.id}.ics").status_code == 404
    feed = Calendar.from_ical(client.get("/communities/110101001001/meetings.ics").data)
    by_title = {str(e["summary"]): str(e["status"]) for e in feed.walk("VEVENT")}
    assert by_title == {m.title: "CONFIRMED", "取消的会": "CANCELLED"}
    assert client.get("/communities/999999999999/meetings.ics").status_code == 404


# --- questions and their moderation ----------------------------------------------------------


def test_questions_before_the_start_only_and_from_residents(client, api_token, make_meeting):
    m = make_meeting(publish=True, days=2)
    url = f"/api/v1/agenda-items/{m.items[0].id}/questions"
    r = client.post(url, json={"body": "停车位够吗？<script>"}, headers=api_token("resident"))
    assert r.status_code == 201
    assert client.post(url, json={"body": "?"}, headers=api_token("resident_b")).status_code == 403
    assert client.post(url, json={"body": " "}, headers=api_token("resident")).status_code == 400
    page = client.get(f"/meetings/{m.id}").get_data(as_text=True)
    assert "停车位够吗？&lt;script&gt;" in page
    clock.freeze(m.starts_at)
    r = client.post(url, json={"body": "迟到的问题"}, headers=api_token("resident"))
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "meeting_started"


def test_reported_questions_hide_and_join_the_moderation_queue(
    client, api_token, make_meeting, make_user, community, app
):
    m = make_meeting(publish=True)
    q = client.post(
        f"/api/v1/agenda-items/{m.items[0].id}/questions",
        json={"body": "广告 加微信"},
        headers=api_token("resident"),
    ).get_json()
    for _ in range(3):
        reporter = make_user(community=community)
        r = client.post(
            "/api/v1/reports",
            json={"target_type": "question", "target_id": q["id"], "reason": "spam"},
            headers=api_token(reporter),
        )
        assert r.status_code == 201, r.get_json()
    data = client.get(f"/api/v1/meetings/{m.id}").get_json()
    shown = data["items"][0]["questions"][0]
    assert shown["hidden"] is True and shown["body"] is None
    com = api_token("committee")
    queue = client.get("/api/v1/communities/110101001001/moderation-queue", headers=com).get_json()
    assert [(i["target_type"], i["target_id"]) for i in queue["items"]] == [("question", q["id"])]
    r = client.post(
        "/api/v1/moderation/actions",
        json={
            "action": "hide",
            "target_type": "question",
            "target_id": q["id"],
            "reason_code": "spam",
        },
        headers=com,
    )
    assert r.status_code == 201, r.get_json()
    log = client.get("/api/v1/communities/110101001001/moderation-log").get_json()["items"]
    assert ("question", q["id"]) in [(e["target_type"], e["target_id"]) for e in log]
    # The committee's workspace lists nothing left open; the public log page names a question.
    login = app.test_client()
    assert "question" in login.get(
        "/communities/110101001001/moderation-log?lang=en", headers={"Accept-Language": "en"}
    ).get_data(as_text=True)


def test_committee_marks_a_question_answered(client, api_token, make_meeting, login_as, app):
    m = make_meeting(publish=True)
    q = client.post(
        f"/api/v1/agenda-items/{m.items[0].id}/questions",
        json={"body": "什么时候施工？"},
        headers=api_token("resident"),
    ).get_json()
    login_as("committee")
    page = client.get(f"/meetings/{m.id}")
    assert page.status_code == 200
    from portal.extensions import db
    from portal.meetings.models import Question

    token = _csrf(page.get_data(as_text=True))
    r = client.post(f"/questions/{q['id']}/answered", data={"csrf_token": token})
    assert r.status_code == 302
    assert db.session.get(Question, q["id"]).answered_at is not None


def _csrf(html: str) -> str:
    import re

    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


# --- minutes and decisions -------------------------------------------------------------------


def test_minutes_once_started_with_a_decision_per_item_on_the_case_timeline(
    client, api_token, make_meeting, make_case, make_proposal
):
    com = api_token("committee")
    m = make_meeting(topics=(), days=1)
    case = make_case("accepted")
    p = make_proposal("open")
    for body in ({"case_number": case.number}, {"proposal_id": p.id}):
        client.post(f"/api/v1/meetings/{m.id}/items", json=body, headers=com)
    client.post(f"/api/v1/meetings/{m.id}/publish", headers=com)
    items = [it["id"] for it in client.get(f"/api/v1/meetings/{m.id}").get_json()["items"]]
    minutes = {
        "body": "会议纪要 <script>",
        "decisions": [
            {"item_id": items[0], "decision": "agreed-action", "note": "本月内修复"},
            {"item_id": items[1], "decision": "needs-more-input", "note": ""},
        ],
    }
    r = client.post(f"/api/v1/meetings/{m.id}/minutes", json=minutes, headers=com)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "meeting_not_started"
    clock.freeze(m.starts_at + timedelta(hours=1))
    r = client.post(
        f"/api/v1/meetings/{m.id}/minutes",
        json={**minutes, "decisions": minutes["decisions"][:1]},
        headers=com,
    )
    assert r.status_code == 400 and "decisions" in r.get_json()["error"]["fields"]
    bad = {**minutes, "decisions": [{**minutes["decisions"][0], "decision": "maybe"}]}
    assert client.post(f"/api/v1/meetings/{m.id}/minutes", json=bad, headers=com).status_code == 400
    assert (
        client.post(
            f"/api/v1/meetings/{m.id}/minutes", json=minutes, headers=api_token("committee_b")
        ).status_code
        == 403
    )
    r = client.post(f"/api/v1/meetings/{m.id}/minutes", json=minutes, headers=com)
    assert r.status_code == 200, r.get_json()
    data = r.get_json()
    assert data["state"] == "held" and data["minutes"] == "会议纪要 <script>"
    assert data["items"][0]["decision"]["decision"] == "agreed-action"
    timeline = client.get(f"/api/v1/cases/{case.number}").get_json()["timeline"]
    assert {"action": "meeting:agreed-action", "note": "本月内修复"}.items() <= timeline[-1].items()
    page = client.get(f"/cases/{case.number}", headers={"Accept-Language": "en"})
    assert "Meeting decision: agreed action" in page.get_data(as_text=True)
    # The case page's "At community meetings": the meeting, its item, the decision and note.
    section = page.get_data(as_text=True).split('id="subject-meetings-h"', 1)[1]
    assert f"/meetings/{m.id}#item-{items[0]}" in section and "本月内修复" in section
    assert "agenda_decided" in _types("resident1@example.org")
    proposal_page = client.get(f"/proposals/{p.id}", headers={"Accept-Language": "en"})
    proposal_page = proposal_page.get_data(as_text=True)
    assert f"/meetings/{m.id}#item-{items[1]}" in proposal_page
    # ... and the decision is a step of the proposal's own history, as of the case's.
    history = proposal_page.split('id="history-h"', 1)[1]
    assert "decided: Needs more input" in history
    r = client.post(f"/api/v1/meetings/{m.id}/minutes", json=minutes, headers=com)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "minutes_published"
    r = client.post(f"/api/v1/meetings/{m.id}/items", json={"topic": "x"}, headers=com)
    assert r.status_code == 409  # a held meeting's items do not change


# --- lists and pages -------------------------------------------------------------------------


def test_api_list_filters_by_community_and_time(client, make_meeting):
    soon = make_meeting(publish=True, days=3)
    later = make_meeting(publish=True, days=30)
    items = client.get("/api/v1/meetings?community=110101001001").get_json()["items"]
    assert [i["id"] for i in items] == [soon.id, later.id]
    frm = iso(clock.now() + timedelta(days=10))
    items = client.get(f"/api/v1/meetings?from={frm}").get_json()["items"]
    assert [i["id"] for i in items] == [later.id]
    assert client.get("/api/v1/meetings?community=nope").status_code == 400
    assert client.get("/api/v1/meetings?from=yesterday").status_code == 400


def test_pages_lead_each_person(client, login_as, make_meeting, invited, community):
    m, inv = invited
    held_page = client.get("/communities/110101001001/meetings")
    assert held_page.status_code == 200 and m.title not in held_page.get_data(as_text=True)
    assert "&lt;b&gt;三月议事会&lt;/b&gt;" in held_page.get_data(as_text=True)
    assert "/communities/110101001001/meetings" in client.get("/communities/110101001001").get_data(
        as_text=True
    )
    login_as(LIAISON)
    r = client.get("/workspace/agency/health-commission/invitations")
    assert r.status_code == 200 and f"/invitations/{inv.id}/answer" in r.get_data(as_text=True)
    assert client.get(f"/invitations/{inv.id}/answer").status_code == 200
    assert client.get("/workspace/agency/culture-sports-bureau/invitations").status_code == 403
    from portal.desks.queries import desks_for

    with client.application.test_request_context("/"):
        liaison = user_by_email(LIAISON)
        desk = next(d for d in desks_for(liaison) if d.kind == "liaison")
        assert desk.parts["invitations"] == 1
    login_as("committee")
    r = client.get(f"/meetings/{m.id}")
    assert r.status_code == 200
    assert f"/agenda-items/{m.items[0].id}/invitations" in r.get_data(as_text=True)
    desk_page = client.get("/communities/110101001001/desk").get_data(as_text=True)
    assert 'data-count="meetings">1<' in desk_page
    assert client.get(f"/meetings/{m.id}/minutes").status_code == 200
    assert client.get(f"/meetings/{m.id}/edit").status_code == 200
    assert client.get(f"/meetings/{m.id}/cancel").status_code == 200
    assert client.get("/communities/110101001001/meetings/new").status_code == 200


def test_web_forms_create_and_publish(client, login_as, make_proposal):
    login_as("committee")
    page = client.get("/communities/110101001001/meetings/new")
    token = _csrf(page.get_data(as_text=True))
    start = (clock.now() + timedelta(days=8)).astimezone(TZ).replace(tzinfo=None)
    form = {
        "csrf_token": token,
        "title": "四月议事会",
        "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (start - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "location": "活动室",
    }
    r = client.post("/communities/110101001001/meetings/new", data=form)
    assert r.status_code == 400 and "四月议事会" in r.get_data(as_text=True)  # kept
    form["ends_at"] = (start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    r = client.post("/communities/110101001001/meetings/new", data=form)
    assert r.status_code == 302
    from portal.extensions import db

    m = db.session.scalar(sa.select(Meeting).where(Meeting.title == "四月议事会"))
    assert m.starts_at.astimezone(TZ).replace(tzinfo=None) == start.replace(second=0, microsecond=0)
    p = make_proposal("open")
    r = client.post(
        f"/meetings/{m.id}/items",
        data={
            "item-csrf_token": token,
            "item-kind": "proposal",
            "item-proposal_id": str(p.id),
            "item-note": "居民提议",
        },
    )
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    r = client.post(f"/meetings/{m.id}/publish", data={"csrf_token": token})
    assert r.status_code == 302
    db.session.refresh(m)
    assert m.state == "published"


def test_a_hidden_question_in_the_workspace_and_its_appeal(
    client, api_token, make_meeting, login_as, app
):
    """The moderation workspace lists a reported question like a comment, and whoever decides
    the author's appeal reads what was hidden (deliberation's registry of target kinds)."""
    from portal.deliberation import services as delib
    from portal.meetings.models import Question

    m = make_meeting(publish=True)
    q = client.post(
        f"/api/v1/agenda-items/{m.items[0].id}/questions",
        json={"body": "请看我的广告 <i>x</i>"},
        headers=api_token("resident"),
    ).get_json()
    r = client.post(
        "/api/v1/reports",
        json={"target_type": "question", "target_id": q["id"], "reason": "spam"},
        headers=api_token("resident2"),
    )
    assert r.status_code == 201
    login_as("committee")
    page = client.get("/communities/110101001001/moderation").get_data(as_text=True)
    assert "请看我的广告 &lt;i&gt;x&lt;/i&gt;" in page
    assert f"/meetings/{m.id}#question-{q['id']}" in page
    from portal.extensions import db

    with app.test_request_context("/"):
        action = delib.moderate(
            user_by_email("committee@example.org"), "hide", "question", q["id"], reason_code="spam"
        )
        delib.appeal(user_by_email("resident1@example.org"), action, "不是广告")
        db.session.commit()
    assert db.session.get(Question, q["id"]).hidden
    assert "content_hidden" in _types("resident1@example.org")
    # The only committee member of A hid it: the district supervisor decides the appeal.
    login_as("supervisor")
    appeals = client.get("/appeals").get_data(as_text=True)
    assert "请看我的广告 &lt;i&gt;x&lt;/i&gt;" in appeals
    assert f"/meetings/{m.id}#question-{q['id']}" in appeals


def test_meeting_list_times_are_iso_text_not_numbers(client):
    """A query's time is ISO 8601 text: lax parsing would take "0.5" for 1970."""
    for bad in ("0.5", "1700000000", "tomorrow"):
        r = client.get(f"/api/v1/meetings?to={bad}")
        assert r.status_code == 400 and "to" in r.get_json()["error"]["fields"], bad
    assert client.get("/api/v1/meetings?from=2026-12-01T00:00:00%2B08:00").status_code == 200
