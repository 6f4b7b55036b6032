"""The support that reaches the threshold when no agency covers the proposal: the support
stands, the person gets the usual answer, the proposal waits to be filed (visibly), and the
sweep or an admin files its case exactly once after a routing rule appears."""

from __future__ import annotations

import sqlalchemy as sa

from portal.cases.models import Case, RoutingRule
from portal.proposals.models import Proposal, Status, Support


def _no_routing(db):
    db.session.execute(sa.delete(RoutingRule))
    db.session.commit()


def _cases(db, p) -> int:
    return db.session.scalar(sa.select(sa.func.count(Case.id)).where(Case.proposal_id == p.id))


def test_web_support_reaching_the_threshold_without_a_routing_rule_is_kept(
    app, login_as, make_proposal, db
):
    p = make_proposal("open", threshold=2)
    _no_routing(db)
    client = app.test_client()
    login_as("resident2", client)
    r = client.form(f"/proposals/{p.id}/support", page=f"/proposals/{p.id}")
    assert r.status_code == 302
    db.session.expire_all()
    p = db.session.get(Proposal, p.id)
    assert p.support_count == 2
    assert (
        db.session.scalar(sa.select(sa.func.count(Support.id)).where(Support.proposal_id == p.id))
        == 2
    )
    assert p.status == Status.qualified and p.filing_pending_since is not None
    assert _cases(db, p) == 0


def test_api_support_reaching_the_threshold_without_a_routing_rule_is_kept(
    client, api_token, make_proposal, db
):
    p = make_proposal("open", threshold=2)
    _no_routing(db)
    r = client.post(f"/api/v1/proposals/{p.id}/support", headers=api_token("resident2"))
    assert r.status_code == 201, r.get_data(as_text=True)
    assert r.get_json() == {"support_count": 2, "status": "qualified"}
    db.session.expire_all()
    p = db.session.get(Proposal, p.id)
    assert p.filing_pending_since is not None and _cases(db, p) == 0


def _add_fallback(app, db, p) -> None:
    from portal.cases import services as cases
    from portal.roles.models import Agency

    with app.test_request_context("/"):
        district = p.community.street.district
        agency = db.session.scalars(sa.select(Agency).order_by(Agency.id)).first()
        cases.set_rule(None, None, district, agency)
        db.session.commit()


def _waiting(app, make_proposal, db, client, api_token) -> Proposal:
    p = make_proposal("open", threshold=2)
    _no_routing(db)
    r = client.post(f"/api/v1/proposals/{p.id}/support", headers=api_token("resident2"))
    assert r.status_code == 201
    db.session.expire_all()
    return db.session.get(Proposal, p.id)


def test_the_sweep_files_a_waiting_proposal_once_a_rule_exists(
    app, make_proposal, db, client, api_token
):
    p = _waiting(app, make_proposal, db, client, api_token)
    assert p.filing_error == "no_route"
    runner = app.test_cli_runner()
    still = runner.invoke(args=["proposals", "sweep"])
    assert still.exit_code == 0 and "0 filed" in still.output
    assert "1 still waiting to be filed" in still.output
    db.session.expire_all()
    assert db.session.get(Proposal, p.id).filing_pending_since is not None

    _add_fallback(app, db, p)
    done = runner.invoke(args=["proposals", "sweep"])
    assert done.exit_code == 0 and "1 filed" in done.output, done.output
    again = runner.invoke(args=["proposals", "sweep"])
    assert "0 filed" in again.output and "waiting" not in again.output
    db.session.expire_all()
    p = db.session.get(Proposal, p.id)
    assert p.filing_pending_since is None and p.filing_error is None
    assert p.status == Status.qualified and _cases(db, p) == 1


def test_staff_are_told_and_everyone_sees_the_waiting_state(
    app, make_proposal, db, client, api_token, login_as
):
    from portal.notifications.models import Notification
    from tests.conftest import user_by_email

    p = _waiting(app, make_proposal, db, client, api_token)
    told = set(
        db.session.scalars(
            sa.select(Notification.user_id).where(
                Notification.type == "proposal_filing_failed",
                Notification.subject_id == str(p.id),
            )
        )
    )
    assert user_by_email("committee@example.org").id in told
    assert user_by_email("admin@example.org").id in told
    assert user_by_email("resident2@example.org").id not in told

    page = app.test_client().get(f"/proposals/{p.id}", headers={"Accept-Language": "en"})
    assert "waiting to be filed as a case" in page.get_data(as_text=True)
    page = app.test_client().get(f"/proposals/{p.id}", headers={"Accept-Language": "zh-CN"})
    assert "等待立案" in page.get_data(as_text=True)


def test_admin_sees_why_and_retries_filing_once(
    app, make_proposal, db, client, api_token, login_as
):
    from portal.audit.models import AuditEntry

    p = _waiting(app, make_proposal, db, client, api_token)
    admin = app.test_client()
    login_as("admin", admin)
    page = admin.get("/admin/filing").get_data(as_text=True)  # the admin reads Chinese
    assert f"/proposals/{p.id}" in page and "没有类别“医疗卫生设施”的派单规则" in page
    assert "/admin/routing" in page
    # Without a CSRF token: refused.
    assert admin.post("/admin/filing/retry", data={"item_id": p.id}).status_code == 400
    r = admin.form("/admin/filing/retry", {"item_id": p.id}, page="/admin/filing")
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(Proposal, p.id).filing_pending_since is not None and _cases(db, p) == 0

    _add_fallback(app, db, p)
    r = admin.form("/admin/filing/retry", {"item_id": p.id}, page="/admin/filing")
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(Proposal, p.id).filing_pending_since is None and _cases(db, p) == 1
    audits = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == "proposal.retry_filing")
    ).all()
    assert [a.details["filed"] for a in audits] == [False, True]
    # Nothing waits any more: a second retry is refused, the case is not filed twice.
    r = admin.form("/admin/filing/retry", {"item_id": p.id}, page="/admin/filing")
    assert r.status_code == 302 and _cases(db, p) == 1
    page = admin.get("/admin/filing").get_data(as_text=True)
    assert f"/proposals/{p.id}" not in page


def test_importing_cases_connects_nothing():
    """The receiver is connected by create_app, not as a side effect of importing cases."""
    import subprocess
    import sys

    code = (
        "import portal.cases.services, portal.models\n"
        "from portal.proposals.signals import proposal_qualified\n"
        "assert not proposal_qualified.receivers, proposal_qualified.receivers\n"
        "from portal import create_app\n"
        "create_app({'SQLALCHEMY_DATABASE_URI': 'sqlite://', 'SECRET_KEY': 'x',"
        " 'COMMONS_ENV': 'testing'})\n"
        "assert len(proposal_qualified.receivers) == 1\n"
        "create_app({'SQLALCHEMY_DATABASE_URI': 'sqlite://', 'SECRET_KEY': 'x',"
        " 'COMMONS_ENV': 'testing'})\n"
        "assert len(proposal_qualified.receivers) == 1\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_rejecting_sends_proposal_rejected(app, make_proposal):
    from portal.proposals.signals import proposal_rejected

    seen = []

    def receiver(sender, **extra):
        seen.append((sender.id, extra["reason_code"], extra["actor"].email))

    proposal_rejected.connect(receiver)
    try:
        p = make_proposal("rejected")
    finally:
        proposal_rejected.disconnect(receiver)
    assert seen == [(p.id, "other", "committee@example.org")]


def test_supports_racing_past_the_threshold_wait_the_same_way(app, make_proposal, db):
    """The support stored alone past the threshold (PostgreSQL's one-statement path) qualifies
    in the next transaction under the same policy: qualified, waiting to be filed."""
    from portal.proposals.services import supports

    p = make_proposal("open", threshold=2)
    p.support_count = 3  # two supports stored alone, racing past the threshold
    db.session.commit()
    _no_routing(db)
    with app.test_request_context("/"):
        assert supports._qualify_apart(p.id) == Status.qualified
    db.session.expire_all()
    p = db.session.get(Proposal, p.id)
    assert p.filing_pending_since is not None and p.filing_error == "no_route"
    assert _cases(db, p) == 0
