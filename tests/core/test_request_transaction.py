"""The request owns the transaction: one commit, in ``core.database``'s after-request hook, when
the request answered with success. Views, services and loaders never commit (a scan of the
source keeps it so); a rule that says no keeps nothing; a commit that fails is never
acknowledged as a success; a refusal's own record is kept only where the request asks."""

from __future__ import annotations

import ast
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy import event

from portal.proposals.models import Status, Support

PORTAL = Path(__file__).resolve().parents[2] / "portal"
# Commands commit per command or per item; the demo loader is run by one. The one place of a
# request's commit is core/database.py.
COMMITTING = {PORTAL / "cli.py", PORTAL / "core" / "database.py"}
DEMO = PORTAL / "demo"


def _commit_calls(path: Path) -> list[int]:
    """The lines of ``path`` that call something's ``commit``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "commit"
    ]


def test_nothing_run_by_a_request_commits():
    found = [
        f"{path.relative_to(PORTAL.parent)}:{line}"
        for path in sorted(PORTAL.rglob("*.py"))
        if path not in COMMITTING and DEMO not in path.parents
        for line in _commit_calls(path)
    ]
    assert found == [], "commit in the request's one place (core.database), not here"


def test_the_request_has_one_commit_in_core_database():
    assert len(_commit_calls(PORTAL / "core" / "database.py")) == 1


def _count(db, name: str) -> list[int]:
    seen: list[int] = []
    event.listen(db.session(), name, lambda *_args: seen.append(1))
    return seen


def _supports(db, p) -> int:
    return db.session.scalar(sa.select(sa.func.count()).where(Support.proposal_id == p.id))


def test_a_successful_form_keeps_its_write_with_one_commit(app, login_as, make_proposal, db):
    p = make_proposal("open")
    client = app.test_client()
    login_as("resident2", client)
    page = f"/proposals/{p.id}"
    token = client.csrf_token(page)
    before = _supports(db, p)
    commits = _count(db, "after_commit")
    r = client.post(f"/proposals/{p.id}/support", data={"csrf_token": token})
    assert r.status_code == 302 and r.headers["Location"].endswith(page)
    assert len(commits) == 1
    assert _supports(db, p) == before + 1


def test_a_form_refused_by_a_rule_keeps_nothing_of_what_it_wrote(
    app, login_as, make_proposal, db, monkeypatch
):
    """The service changed the proposal before it said no: none of it is kept, the error
    stands at its field with what was typed, and the page says nothing was saved."""
    from portal.proposals import services

    p = make_proposal("submitted")
    title = p.title

    def review(_user, proposal, *_args, **_kwargs):
        proposal.title = "written before the refusal"
        db.session.flush()
        raise services.ProposalError("note_required", "Say why.", status=400, field="note")

    monkeypatch.setattr(services, "review", review)
    client = app.test_client()
    login_as("committee", client)
    page = f"/proposals/{p.id}"
    token = client.csrf_token(page)
    commits = _count(db, "after_commit")
    r = client.post(
        f"/proposals/{p.id}/review",
        data={
            "decision": "request_changes",
            "request_changes-csrf_token": token,
            "request_changes-note": "typed <b>",
        },
    )
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert 'id="request_changes-note-error"' in html and "typed &lt;b&gt;" in html
    assert commits == []
    db.session.expire_all()
    assert p.title == title and p.status == Status.submitted


def test_a_forbidden_refusal_from_a_form_shows_the_error_page_and_keeps_nothing(
    app, login_as, make_proposal, db, monkeypatch
):
    from portal.proposals import services

    p = make_proposal("submitted")
    title = p.title

    def review(_user, proposal, *_args, **_kwargs):
        proposal.title = "written before the refusal"
        db.session.flush()
        raise services.ProposalError("forbidden", "Not yours.", status=403)

    monkeypatch.setattr(services, "review", review)
    client = app.test_client()
    login_as("committee", client)
    r = client.form(
        f"/proposals/{p.id}/review",
        {"decision": "request_changes", "request_changes-note": "x"},
        page=f"/proposals/{p.id}",
    )
    assert r.status_code == 403 and "Not yours." in r.get_data(as_text=True)
    db.session.expire_all()
    assert p.title == title


def _refuse(_session):
    raise sa.exc.OperationalError("COMMIT", {}, Exception("the database went away"))


@pytest.fixture
def commits_fail(app, db, monkeypatch):
    """``with commits_fail():`` the database refuses the request's commit (it went away, say),
    and the app answers as in production: with its error page, not the test's traceback."""
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)

    @contextmanager
    def failing():
        event.listen(db.session(), "before_commit", _refuse)
        try:
            yield
        finally:
            event.remove(db.session(), "before_commit", _refuse)

    return failing


def test_a_page_whose_commit_fails_answers_an_error_not_the_success(
    app, login_as, make_proposal, db, commits_fail
):
    p = make_proposal("open")
    client = app.test_client()
    login_as("resident2", client)
    token = client.csrf_token(f"/proposals/{p.id}")
    before = _supports(db, p)
    with commits_fail():
        r = client.post(f"/proposals/{p.id}/support", data={"csrf_token": token})
    assert r.status_code == 500 and "Location" not in r.headers
    assert _supports(db, p) == before
    # Neither the error page nor the next one says it was counted.
    assert "flash-success" not in r.get_data(as_text=True)
    assert "flash-success" not in client.get(f"/proposals/{p.id}").get_data(as_text=True)


def test_an_api_write_whose_commit_fails_answers_500(
    app, api_token, make_proposal, db, commits_fail
):
    p = make_proposal("open")
    headers = api_token("resident2")
    before = _supports(db, p)
    # A client that does not hold the answer to the OpenAPI document, which lists no 500.
    client = FlaskClient(app, app.response_class)
    with commits_fail():
        r = client.post(f"/api/v1/proposals/{p.id}/support", headers=headers)
    assert r.status_code == 500
    assert r.get_json()["error"]["code"] == "server_error"
    assert _supports(db, p) == before


@pytest.mark.parametrize("channel", ["api", "web"])
def test_failed_sign_ins_keep_the_owners_notice(app, client, make_user, db, monkeypatch, channel):
    """Failures on one channel alone tell the owner: over the API, answered 401, through the
    one kind of write a refusal keeps (``keep_on_error``); on the page, answered 200."""
    from portal.notifications.models import Notification

    monkeypatch.setitem(app.config, "LOGIN_LIMIT", "1000 per hour")
    owner = make_user()
    wrong = {"email": owner.email, "password": "not the password at all"}
    for i in range(app.config["LOGIN_FAILURE_ALERT_AFTER"] + 1):
        address = {"REMOTE_ADDR": f"192.0.2.{i + 1}"}
        if channel == "api":
            r = client.post("/api/v1/auth/token", json=wrong, environ_base=address)
            assert r.status_code == 401
        else:
            token = client.csrf_token("/login")
            r = client.post("/login", data={**wrong, "csrf_token": token}, environ_base=address)
            assert r.status_code == 200
    notices = db.session.scalar(
        sa.select(sa.func.count()).where(
            Notification.user_id == owner.id, Notification.type == "login_failures"
        )
    )
    assert notices == 1


def test_a_refused_decision_keeps_only_the_record_of_what_was_shown(
    app, client, login_as, make_user, db
):
    """The residency queue shown again with a decision's errors (400) shows personal data:
    that view is audited, while the refused decision keeps nothing."""
    from portal.audit.models import AuditEntry
    from portal.residency.models import ResidencyRequest, ResidencyStatus

    user = make_user()
    login_as(user)
    client.form(
        "/residency/request",
        {"join-community_code": "110101001001", "join-address_note": "3号楼"},
        page="/residency",
    )
    req = db.session.scalar(sa.select(ResidencyRequest).where(ResidencyRequest.user_id == user.id))
    staff = app.test_client()
    login_as("committee", staff)
    page = "/communities/110101001001/residency"
    token = staff.csrf_token(page)

    def views() -> int:
        return db.session.scalar(
            sa.select(sa.func.count()).where(AuditEntry.action == "residency.view_requests")
        )

    before = views()
    r = staff.post(
        page, data={"csrf_token": token, "request_id": req.id, "decision": "reject", "reason": ""}
    )
    assert r.status_code == 400
    assert views() == before + 1
    db.session.refresh(req)
    assert req.status == ResidencyStatus.pending


def _draft_with_a_photo(app, client, db):
    from portal.proposals.models import Proposal, ProposalPhoto
    from tests.proposals.test_photos import _jpeg_with_gps, _post

    assert _post(client, [_jpeg_with_gps((400, 300))]).status_code == 302
    p = db.session.scalar(sa.select(Proposal).order_by(Proposal.id.desc()))
    photo = db.session.scalar(sa.select(ProposalPhoto).where(ProposalPhoto.proposal_id == p.id))
    return p, photo


def test_a_photos_files_go_only_once_its_row_is_gone_for_good(
    app, login_as, db, tmp_path, monkeypatch, commits_fail
):
    from portal.media.storage import storage_for
    from portal.proposals.models import ProposalPhoto

    monkeypatch.setitem(app.config, "MEDIA_ROOT", str(tmp_path))
    client = app.test_client()
    login_as("resident", client)
    p, photo = _draft_with_a_photo(app, client, db)
    storage = storage_for(app)
    files = [storage.path(photo.name), storage.path(photo.thumb_name)]
    assert all(f.is_file() for f in files)
    url = f"/proposals/{p.id}/photos/{photo.id}/delete"
    token = client.csrf_token(f"/proposals/{p.id}/edit")

    with commits_fail():
        assert client.post(url, data={"csrf_token": token}).status_code == 500
    assert all(f.is_file() for f in files)  # the row stays, and so do its files
    assert db.session.get(ProposalPhoto, photo.id) is not None

    r = client.post(url, data={"csrf_token": token})
    assert r.status_code == 302
    assert db.session.get(ProposalPhoto, photo.id) is None
    assert not any(f.exists() for f in files)


def _stored_files(root) -> list:
    from pathlib import Path

    return sorted(p for p in Path(root).rglob("*") if p.is_file())


def test_the_files_of_an_upload_whose_request_fails_are_removed(
    app, login_as, db, tmp_path, monkeypatch, commits_fail
):
    """The photo rows of a failed request are rolled back; their files go with them
    (``after_rollback``), and those of a kept request stay."""
    from tests.proposals.test_photos import _jpeg_with_gps, _post

    monkeypatch.setitem(app.config, "MEDIA_ROOT", str(tmp_path))
    client = app.test_client()
    login_as("resident", client)
    with commits_fail():
        assert _post(client, [_jpeg_with_gps((400, 300))]).status_code == 500
    assert _stored_files(tmp_path) == []
    assert _post(client, [_jpeg_with_gps((400, 300))]).status_code == 302
    assert len(_stored_files(tmp_path)) == 2  # the photo and its thumbnail


def test_after_rollback_runs_only_when_the_changes_are_not_kept(app, db):
    from portal.core.database import after_commit, after_rollback, discard_changes

    ran: list[str] = []
    with app.test_request_context("/"):
        after_rollback(lambda: ran.append("undone"))
        after_commit(lambda: ran.append("committed"))
        discard_changes()
        assert ran == ["undone"]
        # Work registered after the discard belongs to what the request does next.
        after_rollback(lambda: ran.append("undone again"))
        discard_changes()
    assert ran == ["undone", "undone again"]
    with app.app_context():
        after_rollback(lambda: ran.append("outside a request"))  # a command: nothing to undo
    assert ran == ["undone", "undone again"]
