"""The meeting page holds a question form and an invitation form per item and the form for a
new item, and the account page a form for a new number, so their fields carry a prefix
(q<item>-, inv<item>-, item-, ph-) and so do their CSRF tokens, which the site-wide check
finds like any other: a POST without a token, or with a forged one, changes nothing (wapiti's
exceptions for these forms rest on it)."""

from __future__ import annotations

import re

import sqlalchemy as sa

from portal.meetings.models import AgendaItem, Invitation, Question


def _token(page: str, prefix: str) -> str:
    found = re.search(rf'name="{prefix}-csrf_token" type="hidden" value="([^"]+)"', page)
    assert found, prefix
    return found.group(1)


def test_questions_and_invitations_need_their_prefixed_token(app, make_meeting, login_as, db):
    m = make_meeting(publish=True)
    item = m.items[0].id
    client = app.test_client()
    login_as("committee", client)
    page = client.get(f"/meetings/{m.id}").get_data(as_text=True)
    count = lambda model: db.session.scalar(  # noqa: E731
        sa.select(sa.func.count()).select_from(model).where(model.item_id == item)
    )
    for url, prefix, data, model in (
        (f"/agenda-items/{item}/questions", f"q{item}", {f"q{item}-body": "几点开始？"}, Question),
        (
            f"/agenda-items/{item}/invitations",
            f"inv{item}",
            {f"inv{item}-agency_code": "health-commission"},
            Invitation,
        ),
    ):
        token = _token(page, prefix)
        assert client.post(url, data=data).status_code == 400
        forged = client.post(url, data={**data, f"{prefix}-csrf_token": "forged"})
        assert forged.status_code in (303, 400)
        assert count(model) == 0
        kept = client.post(url, data={**data, f"{prefix}-csrf_token": token})
        assert kept.status_code == 302, url
        assert count(model) == 1

    # The form for a new agenda item: item-csrf_token.
    def items() -> int:
        stmt = sa.select(sa.func.count()).where(AgendaItem.meeting_id == m.id)
        return db.session.scalar(stmt)

    before = items()
    data = {"item-kind": "topic", "item-topic": "新的议题"}
    assert client.post(f"/meetings/{m.id}/items", data=data).status_code == 400
    assert items() == before
    data["item-csrf_token"] = _token(page, "item")
    assert client.post(f"/meetings/{m.id}/items", data=data).status_code == 302
    assert items() == before + 1


def test_a_new_number_needs_its_prefixed_token(app, login_as):
    client = app.test_client()
    login_as("resident", client)
    page = client.get("/account").get_data(as_text=True)
    token = _token(page, "ph")
    data = {"ph-phone": "13800138123"}
    assert client.post("/account/phone", data=data).status_code == 400
    forged = client.post("/account/phone", data={**data, "ph-csrf_token": "forged"})
    assert forged.status_code in (303, 400)
    sent = client.post("/account/phone", data={**data, "ph-csrf_token": token})
    assert sent.status_code == 200  # the page again, now asking for the code sent
