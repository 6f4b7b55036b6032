"""A form sent after its session ended, or with a token that no longer holds, leads back to
the page (or to sign-in with ``next`` to it) with a message; never a bare 400 page."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit


def _flashes(client) -> list:
    with client.session_transaction() as s:
        return list(s.get("_flashes", []))


def test_session_ended_leads_to_sign_in_and_back(app, login_as, make_user):
    client = app.test_client()
    login_as("committee", client)
    page = "/communities/110101001001/moderation"
    token = client.csrf_token(page)
    with client.session_transaction() as s:  # the idle timeout ended the session
        s.clear()
    r = client.post(
        "/moderation",
        data={"csrf_token": token, "action": "hide", "target": "comment:1", "next": page},
        headers={"Referer": f"http://localhost{page}"},
    )
    assert r.status_code == 303
    where = urlsplit(r.headers["Location"])
    assert where.path == "/login" and parse_qs(where.query)["next"] == [page]
    assert [c for c, _m in _flashes(client)] == ["error"]
    # The sign-in page then says why (in the reader's language).
    html = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "会话已结束" in html or "session ended" in html


def test_stale_token_while_signed_in_goes_back_to_the_page(app, login_as):
    client = app.test_client()
    login_as("committee", client)
    page = "/communities/110101001001/review"
    r = client.post(
        "/moderation",
        data={"csrf_token": "stale.token", "action": "hide", "target": "comment:1"},
        headers={"Referer": f"http://localhost{page}?x=1"},
    )
    assert r.status_code == 303 and r.headers["Location"] == f"{page}?x=1"
    assert [c for c, _m in _flashes(client)] == ["error"]


def test_referer_of_another_site_is_not_followed(app, login_as):
    client = app.test_client()
    login_as("committee", client)
    r = client.post(
        "/moderation",
        data={"csrf_token": "stale.token", "next": "https://evil.example/x"},
        headers={"Referer": "https://evil.example/page"},
    )
    assert r.status_code == 303 and r.headers["Location"] == "/"


def test_signed_out_on_a_public_form_goes_back_to_it(app):
    client = app.test_client()
    r = client.post(
        "/login",
        data={"csrf_token": "stale.token", "email": "a@example.org", "password": "x"},
        headers={"Referer": "http://localhost/login?next=/residency"},
    )
    assert r.status_code == 303 and r.headers["Location"] == "/login?next=/residency"


def test_no_token_at_all_and_the_api_keep_the_400(app, login_as):
    client = app.test_client()
    login_as("committee", client)
    r = client.post("/moderation", data={"action": "hide"})
    assert r.status_code == 400 and "<html" in r.get_data(as_text=True)
