"""The public moderation log names no one: a blocked participant is not identified by it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.core import clock
from tests.conftest import user_by_email


@pytest.fixture
def proposal(make_proposal):
    return make_proposal("open", threshold=50)


def _block(client, api_token, comment_id, action="block"):
    data = {"action": action, "target_type": "comment", "target_id": comment_id, "note": "刷屏"}
    if action == "block":
        data["until"] = (clock.now() + timedelta(days=7)).isoformat()
    return client.post("/api/v1/moderation/actions", json=data, headers=api_token("committee"))


def test_public_log_does_not_show_a_blocked_participants_id(client, api_token, proposal, app):
    blocked = user_by_email("resident2@example.org")
    c = client.post(
        f"/api/v1/proposals/{proposal.id}/comments",
        json={"body": "刷屏", "stance": "for"},
        headers=api_token(blocked),
    ).get_json()
    assert _block(client, api_token, c["id"]).status_code == 201
    assert _block(client, api_token, c["id"], "unblock").status_code == 201
    items = client.get("/api/v1/communities/110101001001/moderation-log").get_json()["items"]
    about_user = [e for e in items if e["target_type"] == "user"]
    assert [e["action"] for e in about_user] == ["unblock", "block"]
    assert all(e["target_id"] is None for e in about_user)
    # What stays public: the comment's own entries still point at the comment.
    html = (
        app.test_client()
        .get("/communities/110101001001/moderation-log", headers={"Accept-Language": "en"})
        .get_data(as_text=True)
    )
    assert "a participant" in html
    assert blocked.display_name not in html and f"#{blocked.id}<" not in html
    assert f"user{blocked.id}" not in html and f"/users/{blocked.id}" not in html
