"""A case stays public when the committee hides its proposal, but the proposal's title and
summary do not: not on the case list, the case page, the API, a workspace or "my supports"."""

from __future__ import annotations

import pytest

SECRET = "李四 13900139000 的家门口"


@pytest.fixture
def case(app, db, client, api_token, make_case):
    case = make_case("dispatched")
    case.proposal.title = f"{SECRET}路灯不亮"
    case.proposal.summary = f"摘要：{SECRET}"
    db.session.commit()
    r = client.post(
        "/api/v1/moderation/actions",
        json={
            "action": "hide",
            "target_type": "proposal",
            "target_id": case.proposal_id,
            "reason_code": "personal-data",
        },
        headers=api_token("committee"),
    )
    assert r.status_code == 201, r.get_json()
    return case


def test_case_pages_show_no_hidden_proposal_text(app, case, login_as):
    visitor = app.test_client()
    for url in ("/cases", f"/cases/{case.number}"):
        r = visitor.get(url)
        assert r.status_code == 200 and SECRET not in r.get_data(as_text=True), url
    assert f"#{case.proposal_id}" in visitor.get("/cases").get_data(as_text=True)
    supporter = app.test_client()
    login_as("resident2", supporter)  # supported it before it was hidden
    assert SECRET not in supporter.get("/account/supports").get_data(as_text=True)
    assert SECRET not in supporter.get(f"/cases/{case.number}").get_data(as_text=True)
    liaison = app.test_client()
    login_as("liaison", liaison)
    r = liaison.get(f"/workspace/agency/{case.agency.code}?tab=all")
    assert r.status_code == 200 and case.number in r.get_data(as_text=True)
    assert SECRET not in r.get_data(as_text=True)
    committee = app.test_client()
    login_as("committee", committee)
    assert SECRET in committee.get(f"/cases/{case.number}").get_data(as_text=True)


def test_case_api_shows_no_hidden_proposal_title(app, case, api_token):
    for headers in ({}, api_token("resident2"), api_token("liaison")):
        c = app.test_client()
        listed = c.get("/api/v1/cases", headers=headers).get_json()["items"]
        item = next(i for i in listed if i["number"] == case.number)
        assert item["title"] is None and item["proposal_hidden"] is True
        r = c.get(f"/api/v1/cases/{case.number}", headers=headers)
        assert r.get_json()["title"] is None and SECRET not in r.get_data(as_text=True)
    for who in ("resident", "committee"):
        r = app.test_client().get(f"/api/v1/cases/{case.number}", headers=api_token(who))
        assert r.get_json()["title"].startswith(SECRET)


def test_case_of_a_visible_proposal_keeps_its_title(app, make_case):
    case = make_case("dispatched")
    item = app.test_client().get(f"/api/v1/cases/{case.number}").get_json()
    assert item["title"] == case.proposal.title and item["proposal_hidden"] is False
