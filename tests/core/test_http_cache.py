"""HTTP caching of the public pages and API reads (portal/core/http_cache.py): headers, ETags
and 304s, and no copy of a page kept by the app itself, so that two workers never disagree."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask import before_render_template

from portal import create_app
from portal.core.http_cache import PUBLIC_CACHE_CONTROL
from portal.deliberation.models import STANCES
from tests.conftest import build_app, real_session, scratch_database
from tests.proposals.conftest import category, make_proposal  # noqa: F401 (fixtures)

LIST = "/api/v1/proposals?community=110101001001&status=open"


def _cache_control(r) -> set[str]:
    return {d.strip() for d in r.headers.get("Cache-Control", "").split(",") if d.strip()}


@pytest.fixture
def pid(make_proposal) -> int:  # noqa: F811 (the fixture)
    return make_proposal("open", threshold=5).id


def test_public_pages_and_api_reads_may_be_kept_briefly(anon):
    for url in ("/", "/places", LIST):
        r = anon.get(url)
        assert r.status_code == 200, url
        assert r.headers["Cache-Control"] == PUBLIC_CACHE_CONTROL, url
        max_age = int(re.search(r"max-age=(\d+)", PUBLIC_CACHE_CONTROL).group(1))
        stale = int(re.search(r"stale-while-revalidate=(\d+)", PUBLIC_CACHE_CONTROL).group(1))
        on_error = int(re.search(r"stale-if-error=(\d+)", PUBLIC_CACHE_CONTROL).group(1))
        # nginx serves stale copies only within these (deploy/nginx/commons.conf): the bound
        # on how long hidden content may still be served from its cache.
        assert 0 < max_age <= 10 and max_age + stale <= 30 and max_age + on_error <= 30
        assert r.headers.get("ETag"), url
        vary = {v.strip().lower() for v in r.headers["Vary"].split(",")}
        assert {"cookie", "accept-language", "authorization"} <= vary, url
        assert "Content-Security-Policy" in r.headers  # the security headers still apply
    # A page that is not public says nothing of the kind.
    assert "public" not in _cache_control(anon.get("/login"))


def test_a_conditional_get_is_304_until_the_proposal_changes(anon, api_token, pid):
    for url in (
        f"/proposals/{pid}",
        f"/api/v1/proposals/{pid}",
        f"/api/v1/proposals/{pid}/comments",
    ):
        first = anon.get(url)
        etag = first.headers["ETag"]
        same = anon.get(url, headers={"If-None-Match": etag})
        assert same.status_code == 304 and same.get_data() == b"", url
        assert same.headers["ETag"] == etag
        assert same.headers["Cache-Control"] == PUBLIC_CACHE_CONTROL
    pages = {
        url: anon.get(url).headers["ETag"]
        for url in (f"/proposals/{pid}", f"/api/v1/proposals/{pid}")
    }
    count = anon.get(f"/api/v1/proposals/{pid}").get_json()["support_count"]
    r = anon.post(f"/api/v1/proposals/{pid}/support", headers=api_token("resident2"))
    assert r.status_code == 201
    for url, etag in pages.items():
        changed = anon.get(url, headers={"If-None-Match": etag})
        assert changed.status_code == 200 and changed.headers["ETag"] != etag, url
        assert anon.get(url, headers={"If-None-Match": changed.headers["ETag"]}).status_code == 304
    assert anon.get(f"/api/v1/proposals/{pid}").get_json()["support_count"] == count + 1
    # A comment changes the comment list.
    url = f"/api/v1/proposals/{pid}/comments"
    etag = anon.get(url).headers["ETag"]
    r = anon.post(
        url,
        json={"body": "A comment for the ETag.", "stance": STANCES[0]},
        headers=api_token("resident2"),
    )
    assert r.status_code == 201, r.get_json()
    changed = anon.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_junk_validators_and_no_cache_requests_get_a_correct_answer(anon):
    fresh = anon.get("/places")
    etag = fresh.headers["ETag"]
    for junk in ('"nope"', "garbage,,,", 'W/"x", "y"', "\x7f", ""):
        r = anon.get("/places", headers={"If-None-Match": junk})
        assert r.status_code == 200 and r.get_data() == fresh.get_data(), junk
    # A reload (no-cache): rendered afresh; with the page's own ETag a 304 is still right.
    plain = anon.get("/places", headers={"Cache-Control": "no-cache", "Pragma": "no-cache"})
    assert plain.status_code == 200 and plain.get_data() == fresh.get_data()
    revalidated = anon.get("/places", headers={"Cache-Control": "no-cache", "If-None-Match": etag})
    assert revalidated.status_code in (200, 304)
    assert revalidated.headers["ETag"] == etag
    # HEAD answers as GET does.
    head = anon.head("/places", headers={"If-None-Match": etag})
    assert head.status_code == 304


def test_a_forged_forwarded_host_changes_nothing(anon):
    plain = anon.get(LIST)
    forged = anon.get(LIST, headers={"X-Forwarded-Host": "evil.example"})
    assert forged.status_code == 200 and forged.headers["ETag"] == plain.headers["ETag"]
    assert b"evil.example" not in forged.get_data()


def test_the_language_and_text_size_change_the_page_and_its_etag(anon):
    zh = anon.get("/places", headers={"Accept-Language": "zh-CN"})
    en = anon.get("/places", headers={"Accept-Language": "en"})
    assert zh.headers["ETag"] != en.headers["ETag"]
    assert (
        anon.get(
            "/places", headers={"If-None-Match": zh.headers["ETag"], "Accept-Language": "en"}
        ).status_code
        == 200
    )
    anon.set_cookie("display", "large")
    large = anon.get("/places", headers={"Accept-Language": "zh-CN"})
    assert large.headers["ETag"] != zh.headers["ETag"]
    # Cookies that are not a session keep a page public (the nginx key holds them).
    assert large.headers["Cache-Control"] == PUBLIC_CACHE_CONTROL


def test_a_signed_in_page_is_never_public(client, login_as, api_token, anon, pid):
    urls = ("/", "/places", f"/proposals/{pid}", LIST, f"/api/v1/proposals/{pid}")
    login_as("resident")
    for url in urls:
        r = client.get(url)
        assert r.status_code == 200, url
        assert "public" not in _cache_control(r) and "no-store" in _cache_control(r), url
    token = api_token("resident2")
    for url in urls[3:]:
        r = anon.get(url, headers=token)
        assert "public" not in _cache_control(r) and "no-store" in _cache_control(r), url


def test_a_session_cookie_without_a_sign_in_keeps_the_copy_private(app):
    visitor = app.test_client()
    visitor.get("/login")  # a form token: a session cookie from now on
    assert visitor.get_cookie(app.config["SESSION_COOKIE_NAME"]) is not None
    r = visitor.get("/places")
    assert r.status_code == 200 and _cache_control(r) == {"private", "no-cache"}
    assert visitor.get("/places", headers={"If-None-Match": r.headers["ETag"]}).status_code == 304


# --- no copies in the app: two workers agree, and a page is never older than its data -----------


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory):
    """Two apps on one database, as two worker processes would be. The settings of the old
    per-process cache are passed too, so that this file shows what it did."""
    url, drop = scratch_database(tmp_path_factory, "workers")
    first = build_app(tmp_path_factory, url, PAGE_CACHE_SECONDS=30)
    second = create_app(dict(first.config))
    yield first, second, url
    for a in (first, second):
        with a.app_context():
            from portal.extensions import db

            db.engine.dispose()
    drop()


def _district_name(url: str, name: str) -> None:
    """Rename district 1, committed by another process (its own engine: nothing of this
    process hears of it)."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE districts SET name_zh = :n WHERE id = 1"), {"n": name})
    engine.dispose()


def test_workers_never_disagree(two_workers):
    first, second, url = two_workers
    with real_session():
        a, b = first.test_client(), second.test_client()
        for c in (a, b, a, b):
            assert c.get("/places").status_code == 200
        # A commit through one worker: the other answers the new state at once.
        with first.test_request_context("/"):
            from portal.extensions import db
            from portal.places.models import District

            db.session.get(District, 1).name_zh = "东城区（甲）"
            db.session.commit()
        for c in (b, a):
            assert "东城区（甲）" in c.get("/places").get_data(as_text=True)
        # A commit by another process altogether: both answer it at once.
        _district_name(url, "东城区（乙）")
        for c in (a, b):
            page = c.get("/places")
            assert "东城区（乙）" in page.get_data(as_text=True)
            assert "X-Page-Cache" not in page.headers


def test_a_page_is_never_newer_than_the_data_it_shows(two_workers):
    """The old cache read its generation after rendering: a page built from data read before
    a commit was stored under the commit's generation and served as fresh afterwards."""
    first, _second, url = two_workers
    if not url.startswith("postgresql"):
        pytest.skip("SQLite: the request's transaction holds the one write lock while it renders")
    committed = []

    def commit_meanwhile(_app, **_extra):
        if not committed:  # the districts are read already: another process commits now
            committed.append(True)
            with sa.orm.Session(_engine(first)) as s:
                s.execute(sa.text("UPDATE districts SET name_zh = '东城区（丙）' WHERE id = 1"))
                s.commit()

    with real_session():
        visitor = first.test_client()
        with first.test_request_context("/"):  # through this process: nothing old is kept
            from portal.extensions import db
            from portal.places.models import District

            db.session.get(District, 1).name_zh = "东城区（旧）"
            db.session.commit()
        with before_render_template.connected_to(commit_meanwhile, first):
            assert "东城区（旧）" in visitor.get("/places").get_data(as_text=True)
        assert committed
        assert "东城区（丙）" in visitor.get("/places").get_data(as_text=True)


def _engine(app):
    with app.app_context():
        from portal.extensions import db

        return db.engine
