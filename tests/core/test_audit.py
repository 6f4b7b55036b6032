"""The audit log is append-only in the database and never carries personal data."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditEntry
from portal.audit.services import record


def test_update_and_delete_are_refused_by_the_database(db):
    entry = record(None, "test.action", ("users", 1), note="x")
    db.session.commit()
    for stmt in (
        sa.update(AuditEntry).where(AuditEntry.id == entry.id).values(action="forged"),
        sa.delete(AuditEntry).where(AuditEntry.id == entry.id),
    ):
        with pytest.raises(sa.exc.DatabaseError), db.session.begin_nested():
            db.session.execute(stmt)
    assert db.session.get(AuditEntry, entry.id).action == "test.action"


def test_personal_data_is_refused(db):
    with pytest.raises(ValueError):
        record(None, "x", ("users", 1), email="a@example.org")


def test_admin_browses_the_log_newest_first(app, login_as, db):
    record(None, "first.thing", ("users", 1))
    record(None, "second.thing", ("users", 1))
    db.session.commit()
    client = app.test_client()
    login_as("admin", client)
    html = client.get("/admin/audit").get_data(as_text=True)
    assert html.index("second.thing") < html.index("first.thing")
    only = client.get("/admin/audit?action=first.thing").get_data(as_text=True)
    assert "first.thing" in only and "second.thing" not in only


def test_the_log_names_who_acted_and_whom_it_is_about(app, login_as, db):
    from tests.conftest import user_by_email

    admin = user_by_email("admin@example.org")
    resident = user_by_email("resident1@example.org")
    record(admin, "named.thing", ("users", resident.id))
    record(admin, "odd.subject", ("users", "not-a-number"))
    db.session.commit()
    client = app.test_client()
    login_as("admin", client)
    html = client.get("/admin/audit?action=named.thing").get_data(as_text=True)
    name = '<span class="user-content">{}</span>'  # another language than the page's maybe
    assert f'{name.format(admin.display_name)} <span class="code">#{admin.id}</span>' in html
    assert f"users #{resident.id}</span> {name.format(resident.display_name)}" in html
    assert client.get("/admin/audit?action=odd.subject").status_code == 200
