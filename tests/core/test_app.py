"""App factory, configuration, security headers, error pages, preferences."""

from __future__ import annotations

import pytest

from portal import create_app
from portal.config import ConfigError
from portal.core.security import safe_next


def test_production_requires_a_secret_key(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError):
        create_app({"COMMONS_ENV": "production", "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_unknown_environment_is_refused():
    with pytest.raises(ConfigError):
        create_app({"COMMONS_ENV": "staging"})


def test_production_cookies_and_hsts(monkeypatch, tmp_path):
    app = create_app(
        {
            "COMMONS_ENV": "production",
            "SECRET_KEY": "x" * 32,
            "PUBLIC_URL": "http://localhost",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.db'}",
        }
    )
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    response = app.test_client().get("/api/v1/openapi.json")
    assert "max-age=" in response.headers["Strict-Transport-Security"]
    # Plain HTTP behind the proxy: no redirect of its own.
    assert response.status_code == 200


def test_security_headers_on_every_response(client):
    for url in ("/", "/nope", "/api/v1/communities", "/login"):
        h = client.get(url).headers
        csp = h["Content-Security-Policy"]
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
        assert h["X-Content-Type-Options"] == "nosniff"
        assert h["X-Frame-Options"] == "DENY"
        assert h["Referrer-Policy"]
        assert "Strict-Transport-Security" not in h  # not in development/testing


def test_signed_in_pages_are_not_cached(client, login_as):
    assert "no-store" not in client.get("/").headers.get("Cache-Control", "")
    login_as("resident")
    assert client.get("/").headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/residency", "/residency"),
        ("/a?b=c", "/a?b=c"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("\\\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("/\x00x", "/"),
        ("relative", "/"),
        ("", "/"),
        (None, "/"),
    ],
)
def test_safe_next(target, expected):
    assert safe_next(target) == expected


def test_login_does_not_redirect_off_site(client, make_user):
    user = make_user()
    token = client.csrf_token("/login")
    r = client.post(
        "/login?next=https://evil.example/",
        data={"csrf_token": token, "email": user.email, "password": "commons-demo-2026"},
    )
    assert r.status_code == 302
    # Not off site: where a person without a community lands, joining one.
    assert r.headers["Location"] == "/residency"


def test_404_in_both_languages(client):
    zh = client.get("/nope", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert zh.status_code == 404 and "页面" in zh.get_data(as_text=True)
    en = client.get("/nope", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert en.status_code == 404 and "Page not found" in en.get_data(as_text=True)
    assert '<html lang="en"' in en.get_data(as_text=True)


def test_api_errors_are_json(client):
    r = client.get("/api/v1/nope")
    assert r.status_code == 404
    assert r.get_json()["error"]["code"] == "not_found"
    r = client.put("/api/v1/me")
    assert r.status_code == 405
    assert r.get_json()["error"]["code"] == "method_not_allowed"


def _allowed(response) -> set[str]:
    return {m.strip() for m in response.headers.get("Allow", "").split(",") if m.strip()}


def test_wrong_method_says_which_methods_are_allowed(client):
    # A page: /residency/request takes POST only (and OPTIONS, answered by Flask).
    r = client.get("/residency/request")
    assert r.status_code == 405 and "text/html" in r.content_type
    assert _allowed(r) == {"POST", "OPTIONS"}
    # An API route: /api/v1/me is read with GET (HEAD and OPTIONS come with it), changed with
    # PATCH, deleted with DELETE.
    r = client.put("/api/v1/me")
    assert r.status_code == 405 and r.get_json()["error"]["code"] == "method_not_allowed"
    assert _allowed(r) == {"DELETE", "GET", "HEAD", "OPTIONS", "PATCH"}
    assert r.content_type == "application/json"  # the exception's own type is not kept


def test_error_pages_keep_the_headers_their_exception_carries(app):
    from werkzeug.exceptions import TooManyRequests

    for path, kind in (("/somewhere", "text/html"), ("/api/v1/somewhere", "application/json")):
        with app.test_request_context(path):
            r = app.make_response(app.handle_http_exception(TooManyRequests(retry_after=30)))
        assert r.status_code == 429 and r.headers["Retry-After"] == "30"
        assert [t.split(";")[0] for t in r.headers.getlist("Content-Type")] == [kind]


def test_rate_limited_responses_keep_the_limiters_headers(client, app):
    app.config["LOGIN_LIMIT"] = "1 per minute"
    try:
        token = client.csrf_token("/login")
        for _ in range(2):
            page = client.post(
                "/login",
                data={"csrf_token": token, "email": "x@example.org", "password": "nope nope"},
                environ_base={"REMOTE_ADDR": "10.8.8.8"},
            )
        for _ in range(2):
            api = client.post(
                "/api/v1/auth/token",
                json={"email": "x@example.org", "password": "nope"},
                environ_base={"REMOTE_ADDR": "10.8.8.9"},
            )
    finally:
        app.config["LOGIN_LIMIT"] = "10 per minute;50 per hour"
    for r in (page, api):
        assert r.status_code == 429
        assert int(r.headers["Retry-After"]) > 0 and r.headers["X-RateLimit-Limit"] == "1"


def test_oversized_body_is_413(client):
    big = "x" * (1024 * 1024 + 10)
    r = client.post("/api/v1/auth/token", data=big, content_type="application/json")
    assert r.status_code == 413
    assert r.get_json()["error"]["code"] == "payload_too_large"
    r = client.post("/register", data={"display_name": big})
    assert r.status_code == 413


def test_missing_csrf_token_is_400_with_a_clear_page(client):
    r = client.post("/login", data={"email": "a@example.org", "password": "x"})
    assert r.status_code == 400
    assert "刷新页面" in r.get_data(as_text=True)


def test_language_follows_browser_then_choice(client):
    assert '<html lang="zh-Hans"' in client.get("/").get_data(as_text=True)
    en = client.get("/", headers={"Accept-Language": "en-US"}).get_data(as_text=True)
    assert '<html lang="en"' in en
    r = client.post("/preferences/language", data={"lang": "en", "next": "/places"})
    assert r.status_code == 302 and r.headers["Location"] == "/places"
    assert '<html lang="en"' in client.get("/").get_data(as_text=True)


def test_language_choice_is_remembered_per_user(client, login_as, db):
    user = login_as("resident")
    client.post("/preferences/language", data={"lang": "en", "next": "/"})
    db.session.refresh(user)
    assert user.locale == "en"


def test_large_text_mode_switch_is_remembered(client, login_as, db):
    html = client.get("/").get_data(as_text=True)
    assert 'class="display-standard"' in html
    client.post("/preferences/display", data={"mode": "large", "next": "/"})
    assert 'class="display-large"' in client.get("/").get_data(as_text=True)
    user = login_as("resident2")
    client.post("/preferences/display", data={"mode": "large", "next": "/"})
    db.session.refresh(user)
    assert user.display_mode == "large"


def test_bad_preference_values_are_ignored(client):
    r = client.post("/preferences/language", data={"lang": "xx", "next": "//evil.example"})
    assert r.status_code == 302 and r.headers["Location"] == "/"


def test_healthz(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def _crashing_app(tmp_path):
    app = create_app(
        {
            "COMMONS_ENV": "production",
            "SECRET_KEY": "x" * 32,
            "PUBLIC_URL": "http://localhost",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'crash.db'}",
        }
    )
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()

    @app.get("/boom")
    def boom():
        raise RuntimeError("unexpected")

    @app.get("/api/v1/boom")
    def api_boom():
        raise RuntimeError("unexpected")

    return app


def test_unexpected_errors_get_a_500_page_and_json(tmp_path, caplog):
    app = _crashing_app(tmp_path)
    client = app.test_client()
    page = client.get("/boom", headers={"Accept-Language": "en"})
    assert page.status_code == 500 and "Something went wrong" in page.get_data(as_text=True)
    assert "RuntimeError" not in page.get_data(as_text=True)
    api = client.get("/api/v1/boom")
    assert api.status_code == 500 and api.get_json()["error"]["code"] == "server_error"


def test_security_events_are_logged_without_secrets(client, login_as, caplog):
    import logging

    caplog.set_level(logging.INFO, logger="portal.security")
    client.post("/login", data={"email": "a@example.org", "password": "hunter2hunter2"})
    login_as("resident")
    client.get("/admin/")
    text = caplog.text
    assert "csrf_failure" in text and "forbidden" in text
    assert "hunter2" not in text and "a@example.org" not in text


def test_rate_limits_use_redis_when_configured(tmp_path_factory):
    import os

    redis_url = os.environ.get("TEST_REDIS_URL")
    if not redis_url:
        pytest.skip("TEST_REDIS_URL not set (CI sets it)")
    import redis

    from tests.conftest import build_app

    r = redis.Redis.from_url(redis_url)
    r.flushdb()
    url = f"sqlite:///{tmp_path_factory.mktemp('redis') / 'db.sqlite3'}"
    app = build_app(
        tmp_path_factory,
        url,
        REDIS_URL=redis_url,
        RATELIMIT_STORAGE_URI=None,
        LOGIN_LIMIT="2 per minute",
    )
    assert app.config["RATELIMIT_STORAGE_URI"] == redis_url
    c = app.test_client()
    codes = [
        c.post(
            "/api/v1/auth/token", json={"email": "x@example.org", "password": "nope"}
        ).status_code
        for _ in range(3)
    ]
    assert codes == [401, 401, 429]
    assert any(b"LIMITS" in key or b"limit" in key.lower() for key in r.keys("*"))
    r.flushdb()


def test_preference_switches_refuse_other_sites(client):
    for headers in ({"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://evil.example"}):
        r = client.post("/preferences/language", data={"lang": "en", "next": "/"}, headers=headers)
        assert r.status_code == 302 and "lang=" not in r.headers.get("Set-Cookie", "")
    r = client.post(
        "/preferences/language",
        data={"lang": "en", "next": "/"},
        headers={"Sec-Fetch-Site": "same-origin"},
    )
    assert "lang=en" in r.headers["Set-Cookie"]


def test_method_not_allowed_says_which_methods_are(client):
    """RFC 9110: a 405 carries Allow (schemathesis checks it on every API operation)."""
    for url in ("/api/v1/agencies", "/healthz"):
        r = client.open(url, method="TRACE")
        assert r.status_code == 405
        assert "GET" in r.headers["Allow"].split(", "), url


def test_static_urls_carry_a_hash_of_the_file(client, app):
    # nginx keeps /static/ URLs with ?v= for a year (deploy/nginx/commons.conf): the version
    # must change whenever the file does.
    import hashlib
    import re
    from pathlib import Path

    page = client.get("/").get_data(as_text=True)
    link = re.search(r'href="(/static/css/main\.css\?v=([0-9a-f]+))"', page)
    assert link is not None, "the stylesheet is linked without a version"
    content = (Path(app.static_folder) / "css" / "main.css").read_bytes()
    assert link.group(2) == hashlib.sha256(content).hexdigest()[:12]
    assert re.search(r'href="/static/favicon\.svg\?v=[0-9a-f]{12}"', page)
    asset = client.get(link.group(1))
    assert asset.status_code == 200
    asset.close()


def test_a_changed_static_file_gets_a_new_version(app, tmp_path, monkeypatch):
    from portal.core import templating

    (tmp_path / "a.css").write_bytes(b"body{}")
    monkeypatch.setattr(app, "static_folder", str(tmp_path))
    with app.test_request_context("/"):
        first = templating.static_url("a.css")
        (tmp_path / "a.css").write_bytes(b"body{color:red}")
        second = templating.static_url("a.css")
    assert first.startswith("/static/a.css?v=") and second.startswith("/static/a.css?v=")
    assert first != second


def test_the_wsgi_entry_point_moves_the_loaded_app_out_of_the_collectors_way(tmp_path):
    """``wsgi.py`` (gunicorn's ``wsgi:app``) freezes what loading the app made, so full
    collections in a worker no longer walk it."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {
        "PATH": "/usr/bin:/bin",
        "COMMONS_ENV": "development",
        "COMMONS_INSTANCE_PATH": str(tmp_path),
    }
    out = subprocess.run(
        [sys.executable, "-c", "import gc, wsgi; print(wsgi.app.name, gc.get_freeze_count())"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout.split()
    assert out[0] == "portal"
    assert int(out[1]) > 50_000


def test_hooks_and_views_are_not_inspected_on_every_request(client, app, monkeypatch):
    """Flask asks ``ensure_sync`` of every hook and view of every request; the app remembers
    that a function is a plain one instead of asking ``inspect`` each time. A coroutine
    function is still handed to Flask's own conversion."""
    import flask.app

    asked: list = []
    real = flask.app.iscoroutinefunction

    def counting(func):
        asked.append(func)
        return real(func)

    client.get("/privacy")  # every hook and the view seen once
    monkeypatch.setattr(flask.app, "iscoroutinefunction", counting)
    assert client.get("/privacy").status_code == 200
    assert asked == []

    def plain():
        return "plain"

    async def coroutine():
        return "coroutine"

    assert app.ensure_sync(plain) is plain
    try:
        converted = app.ensure_sync(coroutine)
    except RuntimeError as exc:  # Flask's async extra (asgiref) is not installed
        assert "async" in str(exc)
    else:
        assert converted is not coroutine
    assert asked == [coroutine]
