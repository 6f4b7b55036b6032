"""Role × route matrix: every rule and method of the URL map, requested as each role, against
objects of community A, compared with the statuses written by hand in role_matrix.csv.

Each cell runs inside its own savepoint that is rolled back afterwards, so a request that
succeeds (a support, a moderation, a sign-out) leaves nothing behind for the next cell. One test
per role collects every mismatch and reports them together.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from PIL import Image

from portal.core import clock
from portal.extensions import limiter
from tests.conftest import user_by_email
from tests.votes.factories import make_vote

MATRIX = Path(__file__).with_name("role_matrix.csv")
ROLES = (
    "anonymous",
    "resident_a",
    "resident_b",
    "unconfirmed",
    "committee_a",
    "committee_b",
    "liaison_routed",
    "liaison_other",
    "grid_worker",
    "supervisor",
    "admin",
)
DEMO_USERS = {
    "resident_a": "resident1@example.org",
    "resident_b": "resident.b@example.org",
    "committee_a": "committee@example.org",
    "committee_b": "committee.b@example.org",
    "liaison_other": "liaison.culture-sports-bureau@example.org",
    "grid_worker": "gridworker@example.org",
    "supervisor": "supervisor@example.org",
    "admin": "admin@example.org",
}


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 200)).save(out, "JPEG")
    return out.getvalue()


def local_in(**delta) -> str:
    """A time ahead, as a datetime-local input of the city's zone writes it."""
    from portal.core.i18n import city_timezone_name

    return (
        (clock.now() + timedelta(**delta))
        .astimezone(ZoneInfo(city_timezone_name()))
        .strftime("%Y-%m-%dT%H:%M")
    )


def rule_key(rule, method: str) -> str:
    return f"{method} {rule.rule}"


def app_cells(app) -> dict[str, tuple]:
    """Every (method, rule) of the app except static files, keyed as in role_matrix.csv."""
    cells = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            cells[rule_key(rule, method)] = (rule, method)
    return cells


def read_matrix() -> dict[str, dict[str, str]]:
    lines = [
        line
        for line in MATRIX.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    rows = list(csv.reader(lines))
    header = [h.strip() for h in rows[0]]
    assert header == ["route", *ROLES], f"role_matrix.csv header: {header}"
    matrix = {}
    for row in rows[1:]:
        cells = [c.strip() for c in row]
        assert len(cells) == len(header), f"role_matrix.csv row has {len(cells)} cells: {row}"
        assert cells[0] not in matrix, f"role_matrix.csv lists {cells[0]} twice"
        matrix[cells[0]] = dict(zip(ROLES, cells[1:], strict=True))
    return matrix


@dataclass
class World:
    """Ids of community A's objects (plain values: the ORM rows do not outlive a cell)."""

    args: dict
    per_endpoint: dict
    forms: dict
    json: dict
    users: dict


@pytest.fixture
def world(app, db, make_proposal, make_case, make_user, community, monkeypatch, tmp_path):
    from portal.cases import services as cases
    from portal.deliberation import services as delib
    from portal.meetings import services as meetings
    from portal.notifications.models import Notification
    from portal.proposals import services as proposals
    from portal.proposals.models import Category, ProposalPhoto
    from portal.residency import services as residency

    monkeypatch.setitem(app.config, "MEDIA_ROOT", str(tmp_path))
    author = user_by_email("resident1@example.org")
    committee = user_by_email("committee@example.org")
    with app.test_request_context("/"):
        open_p = make_proposal("open")
        draft = make_proposal("draft")
        submitted = make_proposal("submitted")
        proposals.add_photos(author, open_p, [jpeg()])
        comment = delib.add_comment(author, open_p, "我的意见", "for")
        hidden = delib.add_comment(author, open_p, "被隐藏的意见一", "against")
        hidden2 = delib.add_comment(author, open_p, "被隐藏的意见二", "question")
        action = delib.moderate(committee, "hide", "comment", hidden.id, reason_code="spam")
        action2 = delib.moderate(committee, "hide", "comment", hidden2.id, reason_code="spam")
        appeal = delib.appeal(author, action, "我没有发广告")
        db.session.commit()
        case = make_case("accepted")
        routed = user_by_email(f"liaison.{case.agency.code}@example.org")
        checked = make_case("verifying")  # supporters give feedback; the site check's photo
        cases.act(
            user_by_email("gridworker@example.org"),
            checked,
            "verify",
            note="已核查",
            passed=True,
            photos=[jpeg()],
        )
        applicant = make_user()
        vote = make_vote(app, community)  # open: resident_a may cast a ballot
        request = residency.request_residency(applicant, community, "3号楼")
        batch = residency.create_batch(committee, community, 2, "一号楼", 30)
        unconfirmed = make_user(confirmed_email=False)
        db.session.commit()
        # An upcoming published meeting of A: one item (a topic) that the routed agency is
        # invited to answer, with resident_a's question on it.
        start = clock.now() + timedelta(days=10)
        meeting = meetings.create_meeting(
            committee,
            community,
            meetings.Details("议事会", "", start, start + timedelta(hours=2), "活动室"),
        )
        item = meetings.add_item(committee, meeting, topic="停车")
        invitation = meetings.invite(committee, item, case.agency)
        meetings.publish(committee, meeting)
        question = meetings.ask(author, item, "什么时候？")
        from portal.transparency.open311 import services as open311

        open311_key, open311_raw = open311.create_key(user_by_email("admin@example.org"), "12345")
        db.session.commit()
    photo = db.session.scalar(
        sa.select(ProposalPhoto.id).where(ProposalPhoto.proposal_id == open_p.id)
    )
    notification = db.session.scalar(
        sa.select(Notification.id)
        .where(Notification.user_id == author.id)
        .order_by(Notification.id.desc())
        .limit(1)
    )
    assert notification is not None
    case_photo = cases.photos(checked)[0].id
    health = db.session.scalar(sa.select(Category.id).where(Category.code == "health"))
    assert case.agency.code != "culture-sports-bureau"
    args = {
        "code": community.code,
        "proposal_id": open_p.id,
        "photo_id": photo,
        "comment_id": comment.id,
        "appeal_id": appeal.id,
        "number": case.number,
        "size": "thumb",
        "request_id": request.id,
        "batch_id": batch.id,
        "notification_id": notification,
        "category_id": health,
        "token": "not-a-real-token",
        "meeting_id": meeting.id,
        "item_id": item.id,
        "invitation_id": invitation.id,
        "question_id": question.id,
        "vote_id": vote.id,
        "fmt": "json",
        "key_id": open311_key.id,
        "rest": "nothing-here",
        # Another person's session and token cannot be named: these name none.
        "session_ref": "not-a-session",
        "token_id": 999999,
    }
    district = community.street.district.code
    per_endpoint = {
        "places.district": {"code": district},
        "proposals.district_list": {"code": district},
        "cases.supervisor": {"code": district},
        "cases.liaison": {"code": case.agency.code},
        "meetings.agency_invitations": {"code": case.agency.code},
        "admin.agency_active": {"code": case.agency.code},
        "api.agency_invitations": {"code": case.agency.code},
        "opendata.agency_cases_feed": {"code": case.agency.code},
        "proposals.edit": {"proposal_id": draft.id},
        "proposals.submit": {"proposal_id": draft.id},
        "api.update_proposal": {"proposal_id": draft.id},
        "api.submit_proposal": {"proposal_id": draft.id},
        "proposals.review": {"proposal_id": submitted.id},
        "api.review": {"proposal_id": submitted.id},
        "cases.photo": {"photo_id": case_photo, "number": checked.number},
        "cases.feedback": {"number": checked.number},
        "api.case_feedback": {"number": checked.number},
        "open311.service_definition": {"code": "health"},
    }
    moderate = {"action": "hide", "reason_code": "spam", "note": "probe"}
    report = {"target_type": "comment", "target_id": comment.id, "reason": "spam"}
    forms = {
        "cases.act": {"act-action": "progress", "act-note": "probe"},
        "cases.feedback": {"fb-solved": "yes", "fb-satisfaction": "5"},
        "proposals.withdraw": {"reason": "probe"},
        "deliberation.appeals_page": {"action_id": str(action2.id), "note": "probe"},
        "deliberation.comment": {"body": "probe comment", "stance": "for"},
        "deliberation.edit_comment": {"body": "probe edit"},
        "deliberation.report": report,
        "deliberation.moderate": {**moderate, "target": f"comment:{comment.id}"},
        "deliberation.decide": {"decision": "uphold", "note": "probe"},
        "residency.decide": {"request_id": str(request.id), "decision": "approve"},
        "proposals.review": {"decision": "approve"},
        "meetings.add_item": {"item-kind": "topic", "item-topic": "probe"},
        "admin.agency_active": {"active": "1"},  # stays active for the routes after it
        "meetings.move_item": {"direction": "down"},
        "meetings.invite": {f"inv{item.id}-agency_code": "culture-sports-bureau"},
        "meetings.cancel": {"reason": "probe"},
        "meetings.answer": {"body": "probe"},
        "meetings.ask": {f"q{item.id}-body": "probe question"},
        "votes.ballot": {"option": str(vote.options[0].id)},
        # Authenticated by the integration's key, whoever sends it (a cookie counts for nothing).
        "open311.create_request": {
            "api_key": open311_raw,
            "service_code": "health",
            "attribute[community_code]": community.code,
            "email": "resident1@example.org",
            "description": "probe",
        },
        "votes.new": {
            "question": "probe",
            "kind": "for-against-abstain",
            "opens_at": local_in(days=1),
            "closes_at": local_in(days=2),
        },
    }
    json = {
        "api.case_action": {"action": "progress", "note": "probe"},
        "api.case_feedback": {"solved": True, "satisfaction": 5},
        "api.create_comment": {"body": "probe comment", "stance": "for"},
        "api.patch_comment": {"body": "probe edit"},
        "api.create_report": report,
        "api.moderation_action": {**moderate, "target_type": "comment", "target_id": comment.id},
        "api.appeal_decision": {"decision": "uphold", "note": "probe"},
        "api.create_appeal": {"action_id": action2.id, "note": "probe"},
        "api.decide_residency": {"decision": "approve"},
        "api.review": {"decision": "approve"},
        "api.read_notifications": {"ids": [notification]},
        "api.update_proposal": {"title": "probe title"},
        "api.withdraw_proposal": {"reason": "probe"},
        "api.create_meeting": {
            "community_code": community.code,
            "title": "probe",
            "starts_at": (start + timedelta(days=1)).isoformat(),
            "ends_at": (start + timedelta(days=1, hours=1)).isoformat(),
            "location": "probe",
        },
        "api.update_meeting": {"location": "probe"},
        "api.cancel_meeting": {"reason": "probe"},
        "api.meeting_minutes": {"body": "probe", "decisions": []},
        "api.add_agenda_item": {"topic": "probe"},
        "api.invite_agency": {"agency_code": "culture-sports-bureau"},
        "api.answer_invitation": {"body": "probe"},
        "api.ask_question": {"body": "probe"},
        "api.cast_ballot": {"option": vote.options[0].id},
        "api.create_vote": {
            "question": "probe",
            "kind": "for-against-abstain",
            "opens_at": (clock.now() + timedelta(days=1)).isoformat(),
            "closes_at": (clock.now() + timedelta(days=2)).isoformat(),
        },
        "api.create_proposal": {
            "title": "probe title",
            "summary": "probe summary",
            "body": "probe body",
            "category": "health",
        },
    }
    users = {
        **{role: user_by_email(email) for role, email in DEMO_USERS.items()},
        "liaison_routed": routed,
        "unconfirmed": unconfirmed,
    }
    db.session.commit()
    return World(args, per_endpoint, forms, json, users)


def observed(response) -> str:
    """The status as the matrix writes it: ``login`` for a redirect to the sign-in page."""
    if response.status_code in (301, 302, 303) and "/login" in response.headers.get("Location", ""):
        return "login"
    return str(response.status_code)


def test_the_matrix_lists_every_route_and_method(app):
    """A new route fails here until its row is added to role_matrix.csv by hand."""
    listed, present = set(read_matrix()), set(app_cells(app))
    assert not present - listed, f"add these to role_matrix.csv: {sorted(present - listed)}"
    assert not listed - present, f"no longer routes: {sorted(listed - present)}"


def test_the_matrix_cells_are_statuses():
    allowed = {"login"} | {str(n) for n in range(200, 600)}
    for route, row in read_matrix().items():
        for role, cell in row.items():
            assert cell in allowed, f"{route} × {role}: {cell!r}"


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(app, db, world, login_as, api_token, role):
    expected = read_matrix()
    web = app.test_client()
    api = app.test_client()
    headers = {}
    if role != "anonymous":
        user = world.users[role]
        login_as(user, web)
        headers = api_token(user)
    csrf = web.csrf_token("/login" if role == "anonymous" else "/")
    with web.session_transaction() as s:
        session_state = dict(s)
    connection = db.session.bind
    db.session.remove()
    problems = []
    for key, (rule, method) in sorted(app_cells(app).items()):
        want = expected.get(key, {}).get(role)
        if want is None:
            continue  # reported by test_the_matrix_lists_every_route_and_method
        values = {**world.args, **world.per_endpoint.get(rule.endpoint, {})}
        url = rule.build({k: values[k] for k in rule.arguments}, append_unknown=False)[1]
        savepoint = connection.begin_nested()
        try:
            with web.session_transaction() as s:
                s.clear()
                s.update(session_state)
            limiter.reset()
            if url.startswith("/api/"):
                body = world.json.get(rule.endpoint, {}) if method != "GET" else None
                response = api.open(url, method=method, json=body, headers=headers)
            elif method == "GET":
                response = web.get(url)
            else:
                data = {"csrf_token": csrf, **world.forms.get(rule.endpoint, {})}
                response = web.open(url, method=method, data=data)
            got = observed(response)
            response.close()
        except AssertionError as err:  # the API answer broke the OpenAPI document
            got = f"undocumented ({str(err).splitlines()[0][:120]})"
        finally:
            db.session.remove()
            savepoint.rollback()
        if got != want:
            problems.append(f"{key:60} {role}: expected {want}, got {got}")
    assert not problems, f"{len(problems)} cells differ:\n" + "\n".join(problems)
