"""One status, end to end: a proposal followed from submission to a closed case says the right
stage at every step, on its page, in the lists, in "my proposals" and in the API; the case page
shows its stages, named deadlines and the place."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.cases import services as cases
from portal.core import clock
from portal.extensions import db as _db
from portal.proposals import services as proposals
from portal.proposals.models import Category
from tests.cases.conftest import people
from tests.conftest import user_by_email

A = "110101001001"


def _card(html: str, proposal_id: int) -> str:
    """The card (an <li>) of the proposal on a list page."""
    for card in re.findall(r"<li class=\"card[^\"]*\">.*?</li>", html, re.S):
        if f'href="/proposals/{proposal_id}"' in card:
            return card
    raise AssertionError(f"no card of proposal {proposal_id}")


def _check(client, headers, p, stage: str, deadline: str | None, case=None):
    """The same stage, in words, everywhere the proposal appears."""
    page = client.get(f"/proposals/{p.id}").get_data(as_text=True)
    assert stage in page
    mine = client.get("/account/proposals").get_data(as_text=True)
    assert stage in _card(mine, p.id)
    api = client.get(f"/api/v1/proposals/{p.id}", headers=headers).get_json()
    me = client.get("/api/v1/me/proposals", headers=headers).get_json()
    (mine_item,) = [i for i in me["items"] if i["id"] == p.id]
    if case is None:
        assert api["case"] is None and mine_item["case"] is None
        return page
    listed = client.get(f"/communities/{A}/proposals?status=qualified").get_data(as_text=True)
    card = _card(listed, p.id)
    assert stage in card and case.number in card and case.agency.name_zh in card
    assert case.number in _card(mine, p.id)
    api_list = client.get(f"/api/v1/proposals?community={A}&status=qualified").get_json()
    (list_item,) = [i for i in api_list["items"] if i["id"] == p.id]
    for obj in (api["case"], mine_item["case"], list_item["case"]):
        assert obj["number"] == case.number and obj["stage"] == stage
        assert obj["agency"]["code"] == case.agency.code
    if deadline is None:
        assert api["case"]["deadline"] is None
    else:
        assert deadline in page and deadline in card
        assert api["case"]["deadline"]["label"] == deadline
        assert isinstance(api["case"]["deadline"]["working_days"], int)
        assert "working_days" not in list_item["case"]["deadline"]  # lists skip the calendar
    # Nothing speaks of the case as still to come once it exists.
    assert "将转为" not in page and "正在立案" not in page
    return page


@pytest.fixture
def author(make_user, community):
    return make_user(community=community)


def test_a_proposal_from_submission_to_a_closed_case(app, client, login_as, api_token, author, db):
    committee = user_by_email("committee@example.org")
    health = _db.session.scalar(sa.select(Category).where(Category.code == "health"))
    login_as(author)
    headers = api_token(author)
    with app.test_request_context("/"):
        p = proposals.create(
            author,
            author.community,
            title="社区卫生站排队太久",
            summary="希望增加上午号源",
            body="每天早上排队一小时。",
            category=health,
            location_note="卫生站门口",
            submit=True,
        )
    db.session.commit()
    _check(client, headers, p, "待审核", None)

    with app.test_request_context("/"):
        proposals.review(committee, p, "approve")
        p.threshold = 2
    db.session.commit()
    _check(client, headers, p, "附议中", None)

    with app.test_request_context("/"):
        proposals.support(user_by_email("resident2@example.org"), p)
    db.session.commit()
    case = cases.case_for_proposal(p)
    assert case is not None
    page = _check(client, headers, p, "已派遣，待部门受理", "受理时限", case)
    # Its history tells the filing and the dispatch, with the agency.
    assert f"转为案件 {case.number}，派发至{case.agency.name_zh}" in page
    assert "本提议已转为网格案件" in page

    liaison = user_by_email(f"liaison.{case.agency.code}@example.org")
    with app.test_request_context("/"):
        cases.act(liaison, case, "accept")
    db.session.commit()
    _check(client, headers, p, "已受理", "处置时限", case)

    with app.test_request_context("/"):
        planned = clock.now() + timedelta(days=2)
        cases.act(liaison, case, "plan", note="下周起增加号源", expected_at=planned)
    db.session.commit()
    _check(client, headers, p, "处置中", "处置时限", case)

    with app.test_request_context("/"):
        cases.act(liaison, case, "resolve", note="已增加上午号源")
    db.session.commit()
    _check(client, headers, p, "已处置，核查中", "核查截止", case)

    with app.test_request_context("/"):
        cases.act(people()["grid_worker"], case, "verify", passed=True, note="现场排队已缩短")
    db.session.commit()
    clock.freeze(case.stage_due_at + timedelta(minutes=1))
    with app.test_request_context("/"):
        assert cases.sweep()["closed"] == 1
    db.session.commit()
    login_as(author)  # days later: a fresh session
    headers = api_token(author)
    page = _check(client, headers, p, "已结案：已解决并核查", None, case)
    assert "案件已结案：已解决并核查" in page  # in its history
    api = client.get(f"/api/v1/proposals/{p.id}", headers=headers).get_json()
    assert api["case"]["outcome"] == "已解决并核查"
    assert api["case"]["close_reason"] == "resolved"

    # The case page: the stages with the last one current, the plan kept beside the actual date.
    html = client.get(f"/cases/{case.number}").get_data(as_text=True)
    steps = re.findall(r'<li class="step ([a-z-]+)"( aria-current="step")?>', html)
    assert [s for s, _c in steps] == ["step-done"] * 5 + ["step-current"]
    assert steps[-1][1] and "当前阶段" in html
    assert re.search(r"计划 \d{4}年\d+月\d+日 \d\d:\d\d / 实际 \d{4}年\d+月\d+日 \d\d:\d\d", html)
    assert "卫生站门口" in html and "整个社区" in html  # the place: no grid given

    # In English too.
    author.locale = "en"
    db.session.commit()
    page = client.get(f"/proposals/{p.id}").get_data(as_text=True)
    assert "Closed: Resolved and verified" in page
    assert f"Became case {case.number}, dispatched to {case.agency.name_en}" in page
    assert "becomes a grid case" not in page
    # The author's notifications about it (approved, supported, filed) tell where it is now.
    notes = client.get("/notifications").get_data(as_text=True)
    assert notes.count("Now: Closed: Resolved and verified") >= 2


def test_case_page_names_the_deadline_and_counts_working_days(app, make_case, client, db):
    case = make_case("dispatched")
    html = client.get(f"/cases/{case.number}").get_data(as_text=True)
    assert "受理时限" in html and "处置时限" in html  # both run from the dispatch
    assert re.search(r"还剩 \d+ 个工作日|今天截止", html)
    assert re.search(
        r'<li class="step step-current" aria-current="step">\s*<span[^>]*>●</span>\s*'
        r'<span class="step-label">受理</span>',
        html,
    )
    assert not re.search(r"\d\d:\d\d:\d\d", re.sub(r"<[^>]+>", "", html))  # to the minute
    clock.freeze(case.stage_due_at + timedelta(days=7))
    html = client.get(f"/cases/{case.number}").get_data(as_text=True)
    assert re.search(r"已超期 [1-5] 个工作日", html)


def test_case_page_shows_the_proposals_photos_as_its_page_does(
    app, make_case, client, login_as, db
):
    from portal.proposals.models import ProposalPhoto

    case = make_case("accepted")
    p = case.proposal
    with app.test_request_context("/"):  # the row is enough: the page only links the files
        _db.session.add(
            ProposalPhoto(
                proposal_id=p.id,
                name="x.jpg",
                thumb_name="x-t.jpg",
                content_type="image/jpeg",
                width=40,
                height=30,
            )
        )
    db.session.commit()
    html = client.get(f"/cases/{case.number}").get_data(as_text=True)
    assert f"/proposals/{p.id}/photos/" in html
    # Hidden by the committee: its photos stay with the author and the committee.
    p.hidden, p.hidden_at, p.hidden_reason = True, clock.now(), "personal-data"
    db.session.commit()
    html = client.get(f"/cases/{case.number}").get_data(as_text=True)
    assert f"/proposals/{p.id}/photos/" not in html
    login_as("resident")  # the author
    html = client.get(f"/cases/{case.number}").get_data(as_text=True)
    assert f"/proposals/{p.id}/photos/" in html


def test_a_page_of_proposals_loads_their_cases_in_one_query(app, make_case, client, db):
    from tests.proposals.test_mine import _selects

    make_case("dispatched")
    url = f"/communities/{A}/proposals?status=qualified"
    one = _selects(client, url)
    for _ in range(3):
        make_case("accepted")
    assert _selects(client, url) == one
    html = client.get(url).get_data(as_text=True)
    assert html.count('class="case-line"') >= 4
