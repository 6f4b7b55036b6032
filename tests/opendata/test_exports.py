"""The open data exports: what they contain, what they never contain, their filters and their
errors, and that they stream in batches instead of loading every row."""

from __future__ import annotations

import csv
import io
import json

import pytest
import sqlalchemy as sa

from portal.accounts.models import User
from portal.opendata import exports
from portal.opendata.exports import CASE_COLUMNS, PROPOSAL_COLUMNS
from portal.proposals.models import Proposal, Support

ROUTES = (
    "/open-data/proposals.csv",
    "/open-data/proposals.json",
    "/open-data/cases.csv",
    "/open-data/cases.json",
)


def rows_of(resp) -> list[dict]:
    assert resp.status_code == 200, resp.get_data(as_text=True)
    text = resp.get_data(as_text=True)
    if resp.mimetype == "text/csv":
        assert text.startswith("\ufeff")
        return list(csv.DictReader(io.StringIO(text[1:])))
    return json.loads(text)["items"]


def test_proposals_hold_every_public_one_with_its_timestamps(anon, make_proposal, make_case):
    opened = make_proposal("open", title="开放的提议")
    rejected = make_proposal("rejected", title="被驳回的提议")
    withdrawn = make_proposal("withdrawn", title="撤回的提议")
    case = make_case("accepted")
    for fmt in ("csv", "json"):
        rows = {int(r["id"]): r for r in rows_of(anon.get(f"/open-data/proposals.{fmt}"))}
        assert rows[opened.id]["status"] == "open"
        assert rows[opened.id]["opened_at"].endswith("Z")
        assert rows[opened.id]["author"] == opened.author.display_name
        assert rows[opened.id]["community_code"] == "110101001001"
        assert rows[opened.id]["district_code"] == "110101"
        assert rows[rejected.id]["status"] == "rejected"
        assert rows[rejected.id]["rejected_at"]
        assert rows[rejected.id]["reject_reason"] == "other"
        assert rows[withdrawn.id]["withdrawn_at"]
        qualified = rows[case.proposal_id]
        assert qualified["status"] == "qualified"
        assert qualified["case_number"] == case.number
        assert qualified["qualified_at"]
        assert list(rows[opened.id]) == [c.name for c in PROPOSAL_COLUMNS]


def test_proposals_leave_out_drafts_reviews_and_hidden_ones(anon, db, make_proposal):
    kept = make_proposal("open", title="公开的提议")
    draft = make_proposal("draft", title="草稿不公开")
    submitted = make_proposal("submitted", title="待审不公开")
    changes = make_proposal("changes_requested", title="待修改不公开")
    hidden = make_proposal("open", title="已隐藏不公开")
    hidden.hidden, hidden.hidden_at, hidden.hidden_reason = True, hidden.opened_at, "spam"
    db.session.commit()
    for route in ("/open-data/proposals.csv", "/open-data/proposals.json"):
        resp = anon.get(route)
        text = resp.get_data(as_text=True)
        ids = {int(r["id"]) for r in rows_of(resp)}
        assert kept.id in ids
        for p in (draft, submitted, changes, hidden):
            assert p.id not in ids
            assert p.title not in text


def test_cases_hold_the_history_of_each_step(anon, make_case):
    case = make_case("verifying")
    for fmt in ("csv", "json"):
        row = next(
            r for r in rows_of(anon.get(f"/open-data/cases.{fmt}")) if r["number"] == case.number
        )
        assert row["state"] == "verifying"
        assert row["agency_code"] == case.agency.code
        assert row["category_code"] == "health"
        assert row["community_name_zh"] == case.community.name_zh
        for stamp in ("filed_at", "dispatched_at", "response_due_at", "first_handling_due_at",
                      "first_accepted_at", "accepted_at", "expected_at", "handling_due_at",
                      "first_resolved_at", "resolved_at"):  # fmt: skip
            assert row[stamp], stamp
            assert row[stamp].endswith("Z"), (stamp, row[stamp])  # ISO 8601 in UTC, every one
        assert row["closed_at"] in ("", None)
        assert str(row["reopen_count"]) == "0"
        assert str(row["return_count"]) == "0"
        assert row["title"] == case.proposal.title
        assert list(row) == [c.name for c in CASE_COLUMNS]


def test_a_returned_and_rerouted_case_counts_both(anon, app, db, make_case):
    from portal.cases import services as cases
    from tests.conftest import user_by_email

    case = make_case("returned")
    with app.test_request_context("/"):
        agency = next(a for a in cases.reroute_agencies(case) if a.id != case.agency_id)
        cases.act(user_by_email("supervisor@example.org"), case, "reroute", agency=agency,
                  note="改派")  # fmt: skip
        db.session.commit()
    row = next(r for r in rows_of(anon.get("/open-data/cases.json")) if r["number"] == case.number)
    assert row["return_count"] == 1
    assert row["reroute_count"] == 1
    assert row["agency_code"] == agency.code
    assert row["last_dispatched_at"] >= row["dispatched_at"]


def test_a_hidden_proposal_keeps_its_case_but_not_its_title(anon, db, make_case):
    case = make_case("accepted")
    p = case.proposal
    p.hidden, p.hidden_at, p.hidden_reason = True, p.opened_at, "spam"
    db.session.commit()
    for fmt in ("csv", "json"):
        resp = anon.get(f"/open-data/cases.{fmt}")
        row = next(r for r in rows_of(resp) if r["number"] == case.number)
        assert row["title"] in ("", None)
        assert p.title not in resp.get_data(as_text=True)


def test_no_personal_data_in_any_export(anon, db, make_proposal, make_case):
    """Every email address, phone number and supporter's name in the database is absent from
    every export (authors' display names appear, as on the public pages)."""
    make_proposal("open")
    make_proposal("withdrawn")
    make_case("verifying")
    make_case("accepted")
    from portal.core import clock
    from tests.conftest import user_by_email

    for n, email in enumerate(("resident1@example.org", "resident2@example.org")):
        person = user_by_email(email)  # an author and a supporter, each with a number
        person.phone, person.phone_verified_at = f"+86139876543{n:02d}", clock.now()
    db.session.commit()
    users = db.session.execute(sa.select(User.id, User.email, User.phone, User.display_name))
    authors = set(db.session.scalars(sa.select(Proposal.author_id)))
    supporters = set(db.session.scalars(sa.select(Support.user_id))) - authors
    secrets = []
    for uid, email, phone, name in users:
        secrets += [s for s in (email, phone) if s]
        if phone:
            secrets.append(phone.removeprefix("+86"))  # the national number alone too
        if uid in supporters:
            secrets.append(name)
    assert supporters and any(s.startswith("+86") for s in secrets)
    for route in ROUTES:
        text = anon.get(route).get_data(as_text=True)
        for secret in secrets:
            assert secret not in text, (route, secret)
    names = [c.name for c in PROPOSAL_COLUMNS + CASE_COLUMNS]
    assert not [n for n in names if any(w in n for w in ("user", "supporter", "email", "phone"))]


def test_filters_by_community_district_and_days(anon, make_case, community_b):
    a = make_case("accepted")
    b = make_case("accepted", community_=community_b)
    numbers = lambda q: {r["number"] for r in rows_of(anon.get("/open-data/cases.json" + q))}  # noqa: E731
    assert numbers("?community=110101001001") >= {a.number}
    assert b.number not in numbers("?community=110101001001")
    assert {a.number, b.number} <= numbers("?district=110101")
    today = a.filed_at.date().isoformat()
    assert a.number in numbers("?from=2020-01-01&to=2999-12-31")
    assert numbers("?from=2000-01-01&to=2000-12-31") == set()
    proposals = {
        r["id"]
        for r in rows_of(anon.get(f"/open-data/proposals.csv?community=110101001002&from={today}"))
    }
    assert proposals == {str(b.proposal_id)}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("community=999", "community"),
        ("community=110101001999", "community"),
        ("community=<script>", "community"),
        ("district=abc", "district"),
        ("from=2026-13-01", "from"),
        ("from=yesterday", "from"),
        ("to=2026-02-30", "to"),
        ("to=0001-01-01", "to"),
        ("to=9999-12-31", "to"),
        ("from=2026-02-01&to=2026-01-01", "from"),
    ],
)
def test_bad_filters_are_400_with_a_message(anon, query, field):
    resp = anon.get(f"/open-data/cases.json?{query}")
    assert resp.status_code == 400
    err = resp.get_json()["error"]
    assert err["code"] and err["message"] and field in err["fields"]
    resp = anon.get(f"/open-data/proposals.csv?{query}")
    assert resp.status_code == 400
    assert resp.mimetype == "text/plain"
    assert resp.get_data(as_text=True).strip()


def test_rows_stream_in_keyset_batches(anon, app, monkeypatch, make_proposal, count_queries):
    """With batches of 2, seven rows take four reads, each after the last id seen with a LIMIT:
    the export never asks for every row at once, and the response is a stream."""
    for _ in range(6):
        make_proposal("open")
    total = len(rows_of(anon.get("/open-data/proposals.json")))
    monkeypatch.setattr(exports, "BATCH", 2)
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args, **_kwargs):
        if "FROM proposals" in statement:
            statements.append(statement)

    from portal.extensions import db

    sa.event.listen(db.engine, "before_cursor_execute", seen)
    try:
        resp = anon.get("/open-data/proposals.csv")
        assert resp.is_streamed
        body = resp.get_data(as_text=True)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", seen)
    assert body.count("\r\n") == total + 1
    assert len(statements) == total // 2 + 1
    assert all("LIMIT" in s and "proposals.id >" in s for s in statements)


def test_the_generator_holds_one_batch(app, monkeypatch, make_proposal):
    """Reading the first row runs one query of one batch, not the whole table."""
    for _ in range(5):
        make_proposal("open")
    monkeypatch.setattr(exports, "BATCH", 2)
    calls: list[int] = []
    real = exports.db.session.execute

    def execute(stmt, *a, **kw):
        result = real(stmt, *a, **kw)
        rows = result.all()
        calls.append(len(rows))
        return _Rows(rows)

    monkeypatch.setattr(exports.db.session, "execute", execute)
    with app.test_request_context("/"):
        gen = exports.proposal_rows(exports.Filters())
        next(gen)
        assert calls == [2]


class _Rows:
    def __init__(self, rows):
        self._rows = rows

    def all(self):
        return self._rows


def test_exports_are_public_and_headed_for_caches(anon, login_as, client):
    resp = anon.get("/open-data/cases.csv")
    assert resp.headers["Cache-Control"].startswith("public")
    assert resp.headers["X-Accel-Buffering"] == "no"
    assert 'filename="cases.csv"' in resp.headers["Content-Disposition"]
    login_as("resident")
    assert client.get("/open-data/cases.csv").headers["Cache-Control"] == "no-store"


def test_json_names_the_licence(anon, app):
    data = json.loads(anon.get("/open-data/cases.json").get_data(as_text=True))
    assert data["license"] == {
        "id": app.config["OPEN_DATA_LICENSE"],
        "url": app.config["OPEN_DATA_LICENSE_URL"],
    }
    assert data["columns"] == [c.name for c in CASE_COLUMNS]
    assert data["generated_at"].endswith("Z")


def test_csv_cells_never_start_a_formula(anon, make_proposal):
    """People's text that a spreadsheet would run (=, +, -, @) is kept as text in the CSV, and
    as written in the JSON."""
    p = make_proposal("open", title='=HYPERLINK("http://x.invalid","点我")', summary="@SUM(1)")
    csv_row = next(r for r in rows_of(anon.get("/open-data/proposals.csv")) if r["id"] == str(p.id))
    assert csv_row["title"] == "'" + p.title
    assert csv_row["summary"] == "'@SUM(1)"
    json_row = next(r for r in rows_of(anon.get("/open-data/proposals.json")) if r["id"] == p.id)
    assert json_row["title"] == p.title
