"""Comments and reports are rate limited per person and per address, on the web and the API
alike (one budget for both)."""

from __future__ import annotations

import pytest

A = "203.0.113.20"


@pytest.fixture
def proposal(make_proposal):
    return make_proposal("open", threshold=50)


def _web_comment(client, token, p, address=A):
    return client.post(
        f"/proposals/{p.id}/comments",
        data={"csrf_token": token, "body": "我支持", "stance": "for"},
        environ_base={"REMOTE_ADDR": address},
    )


def _api_comment(client, headers, p, address=A):
    return client.post(
        f"/api/v1/proposals/{p.id}/comments",
        json={"body": "我支持", "stance": "for"},
        headers=headers,
        environ_base={"REMOTE_ADDR": address},
    )


def _web_report(client, token, p, address=A):
    return client.post(
        "/reports",
        data={
            "csrf_token": token,
            "target_type": "proposal",
            "target_id": str(p.id),
            "reason": "spam",
            "next": f"/proposals/{p.id}",
        },
        environ_base={"REMOTE_ADDR": address},
    )


def _api_report(client, headers, p, address=A):
    return client.post(
        "/api/v1/reports",
        json={"target_type": "proposal", "target_id": p.id, "reason": "spam"},
        headers=headers,
        environ_base={"REMOTE_ADDR": address},
    )


def _limited_page(r) -> None:
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    assert "text/html" in r.content_type


def _limited_json(r) -> None:
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    assert r.get_json()["error"]["code"] == "rate_limited"


def test_comments_per_person(app, client, login_as, api_token, proposal, monkeypatch):
    monkeypatch.setitem(app.config, "COMMENT_LIMIT", "2 per minute")
    login_as("resident2")
    token = client.csrf_token()
    assert _web_comment(client, token, proposal).status_code == 302
    assert _api_comment(client, api_token("resident2"), proposal, "198.51.100.1").status_code == 201
    _limited_page(_web_comment(client, token, proposal, "198.51.100.2"))
    _limited_json(_api_comment(client, api_token("resident2"), proposal, "198.51.100.3"))
    # Someone else at the same address comments on.
    assert _api_comment(client, api_token("resident"), proposal).status_code == 201


def test_comments_per_address(app, client, api_token, proposal, monkeypatch):
    monkeypatch.setitem(app.config, "COMMENT_IP_LIMIT", "2 per minute")
    assert _api_comment(client, api_token("resident"), proposal).status_code == 201
    assert _api_comment(client, api_token("resident2"), proposal).status_code == 201
    _limited_json(_api_comment(client, api_token("resident3@example.org"), proposal))
    r = _api_comment(client, api_token("resident3@example.org"), proposal, "198.51.100.1")
    assert r.status_code == 201


def test_reports_per_person(app, client, login_as, api_token, make_proposal, monkeypatch):
    monkeypatch.setitem(app.config, "REPORT_LIMIT", "2 per minute")
    p1, p2, p3 = (make_proposal("open", threshold=50) for _ in range(3))
    login_as("resident2")
    token = client.csrf_token()
    assert _web_report(client, token, p1).status_code == 302
    assert _api_report(client, api_token("resident2"), p2, "198.51.100.1").status_code == 201
    _limited_page(_web_report(client, token, p3, "198.51.100.2"))
    _limited_json(_api_report(client, api_token("resident2"), p3, "198.51.100.3"))
    assert _api_report(client, api_token("resident"), p3).status_code == 201


def test_reports_per_address(app, client, api_token, proposal, monkeypatch):
    monkeypatch.setitem(app.config, "REPORT_IP_LIMIT", "2 per minute")
    assert _api_report(client, api_token("resident"), proposal).status_code == 201
    assert _api_report(client, api_token("resident2"), proposal).status_code == 201
    _limited_json(_api_report(client, api_token("resident3@example.org"), proposal))


def _web_edit(client, token, comment_id, address=A):
    return client.post(
        f"/comments/{comment_id}/edit",
        data={"csrf_token": token, "body": "改一下"},
        environ_base={"REMOTE_ADDR": address},
    )


def _api_edit(client, headers, comment_id, address=A):
    return client.patch(
        f"/api/v1/comments/{comment_id}",
        json={"body": "再改一下"},
        headers=headers,
        environ_base={"REMOTE_ADDR": address},
    )


def test_editing_a_comment_spends_the_comment_budget(
    app, client, login_as, api_token, proposal, monkeypatch
):
    """Without it, a short comment could be rewritten without limit (what others read changes
    as fast as one can send)."""
    monkeypatch.setitem(app.config, "COMMENT_LIMIT", "3 per minute")
    login_as("resident2")
    token = client.csrf_token()
    headers = api_token("resident2")
    r = _api_comment(client, headers, proposal, "198.51.100.1")
    assert r.status_code == 201
    comment_id = r.get_json()["id"]
    assert client.get(f"/comments/{comment_id}/edit").status_code == 200  # reading is free
    assert _web_edit(client, token, comment_id, "198.51.100.2").status_code == 302
    assert _api_edit(client, headers, comment_id, "198.51.100.3").status_code == 200
    _limited_page(_web_edit(client, token, comment_id, "198.51.100.4"))
    _limited_json(_api_edit(client, headers, comment_id, "198.51.100.5"))
    assert client.get(f"/comments/{comment_id}/edit").status_code == 200
    # Someone else at the same address comments on.
    assert _api_comment(client, api_token("resident"), proposal).status_code == 201


def test_editing_comments_per_address(app, client, api_token, proposal, monkeypatch):
    monkeypatch.setitem(app.config, "COMMENT_IP_LIMIT", "2 per minute")
    headers = api_token("resident")
    r = _api_comment(client, headers, proposal, "198.51.100.1")
    comment_id = r.get_json()["id"]
    assert _api_edit(client, headers, comment_id).status_code == 200
    assert _api_comment(client, api_token("resident2"), proposal).status_code == 201
    _limited_json(_api_edit(client, headers, comment_id))
    assert _api_edit(client, headers, comment_id, "198.51.100.2").status_code == 200
