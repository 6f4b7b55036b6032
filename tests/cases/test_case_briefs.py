"""Proposals read with their cases: a page of proposals reads the cases they became in its own
statement (the cases outer-joined, ``hooks.with_cases``), so the list page, the API's list and
"my proposals" tell each case without a statement of their own for it; a proposal's page reads
its case with the case's steps; and each of these pages has the city's time zone for its
dates from a statement it runs anyway."""

from __future__ import annotations

import sqlalchemy as sa

from portal.extensions import db as _db
from tests.conftest import user_by_email

A = "110101001001"


def _statements(client, url: str, headers=None) -> tuple[list[str], object]:
    seen: list[str] = []

    def before(_conn, _cursor, statement, *_args, **_kwargs):
        if not statement.startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO")):
            seen.append(" ".join(statement.split()))

    sa.event.listen(_db.engine, "before_cursor_execute", before)
    try:
        r = client.get(url, headers=headers or {})
    finally:
        sa.event.remove(_db.engine, "before_cursor_execute", before)
    assert r.status_code == 200, (url, r.status_code)
    return seen, r


def _reads_cases_alone(statements: list[str]) -> list[str]:
    return [s for s in statements if s.startswith("SELECT cases.")]


def _reads_the_time_zone_alone(statements: list[str]) -> list[str]:
    return [s for s in statements if s.startswith("SELECT cities.timezone")]


def test_lists_read_their_cases_with_their_proposals(app, client, login_as, make_case):
    first, second = make_case("dispatched"), make_case("accepted")
    author = user_by_email("resident1@example.org")
    login_as(author)
    for case in (first, second):
        assert case.proposal.author_id == author.id

    url = f"/communities/{A}/proposals?status=qualified"
    client.get(url)  # warm: the city's time zone and the statements built once
    seen, r = _statements(client, url)
    html = r.get_data(as_text=True)
    assert first.number in html and second.number in html
    assert first.agency.name_zh in html
    assert not _reads_cases_alone(seen), seen
    assert not _reads_the_time_zone_alone(seen), seen

    seen, r = _statements(client, f"/api/v1/proposals?community={A}&status=qualified")
    by_id = {i["id"]: i["case"] for i in r.get_json()["items"]}
    assert by_id[first.proposal_id]["number"] == first.number
    assert by_id[second.proposal_id]["state"] == "accepted"
    assert by_id[second.proposal_id]["agency"]["code"] == second.agency.code
    assert not _reads_cases_alone(seen), seen
    assert len(seen) == 3  # the sign-in, the page, which of them the reader supports

    seen, r = _statements(client, "/account/proposals")
    html = r.get_data(as_text=True)
    assert first.number in html and second.number in html
    assert not _reads_cases_alone(seen), seen


def test_a_proposals_page_reads_its_case_with_the_steps(app, client, make_case):
    """The proposal's page reads its case and the case's steps in one statement; the steps
    still tell the filing and the dispatch, in order."""
    case = make_case("accepted")
    url = f"/proposals/{case.proposal_id}"
    client.get(url)
    seen, r = _statements(client, url)
    html = r.get_data(as_text=True)
    assert f"转为案件 {case.number}，派发至{case.agency.name_zh}" in html
    assert html.index(f"转为案件 {case.number}") < html.index(f"{case.agency.name_zh} 已受理案件")
    assert [s for s in seen if s.startswith("SELECT case_events.")] == [], seen
    assert not _reads_the_time_zone_alone(seen), seen  # brought by the page's statement
    assert len([s for s in seen if "FROM cases" in s and "case_events" in s]) == 1
    listed = f"/communities/{A}/proposals?status=qualified"
    client.get(listed)
    seen, r = _statements(client, listed)
    assert case.number in r.get_data(as_text=True)
    assert not _reads_the_time_zone_alone(seen), seen  # with the community, for a visitor
    client.get("/cases")
    seen, r = _statements(client, "/cases")
    assert case.number in r.get_data(as_text=True)
    assert not _reads_the_time_zone_alone(seen), seen  # with the cases listed


def test_a_case_page_reads_the_case_its_steps_and_whether_it_has_photos_at_once(
    app, client, make_case
):
    """The case page reads the case, its steps and whether it and its proposal have photos in
    one statement: a case without photos asks for none."""
    case = make_case("accepted")
    url = f"/cases/{case.number}"
    client.get(url)
    seen, r = _statements(client, url)
    html = r.get_data(as_text=True)
    assert case.number in html and case.agency.name_zh in html
    for table in ("case_events", "case_photos", "proposal_photos"):
        assert not [s for s in seen if s.startswith(f"SELECT {table}.")], (table, seen)
    assert not _reads_the_time_zone_alone(seen), seen
    assert len([s for s in seen if s.startswith("SELECT EXISTS") and "case_events" in s]) == 1
