"""The anonymous page cache never serves a copy older than a minute, stale copies included,
however long PAGE_CACHE_SECONDS is set: what the committee hides is gone within 60 s."""

from __future__ import annotations

import itertools

import pytest

from portal import create_app
from portal.core import cache
from portal.core.guards import public


@pytest.fixture
def probe(monkeypatch, tmp_path):
    app = create_app(
        {
            "COMMONS_ENV": "testing",
            "SECRET_KEY": "x" * 32,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'cache.db'}",
            "RATELIMIT_STORAGE_URI": "memory://",
            "PAGE_CACHE_SECONDS": 3600,  # a careless setting: the ceiling still holds
        }
    )
    renders = itertools.count(1)

    @app.get("/probe")
    @public
    def page_probe():
        return f"render {next(renders)}"

    monkeypatch.setattr(cache, "CACHEABLE", cache.CACHEABLE | {"page_probe"})
    now = [1000.0]
    monkeypatch.setattr(cache.time, "monotonic", lambda: now[0])
    cache._entries.clear()
    cache._refreshing.clear()
    yield app.test_client(), now
    cache._entries.clear()
    cache._refreshing.clear()


def _get(client):
    r = client.get("/probe")
    return r.get_data(as_text=True), r.headers.get("X-Page-Cache")


def test_the_ceiling_covers_the_stale_window():
    assert cache.MAX_AGE_SECONDS <= 60


def test_no_copy_is_served_after_a_minute(probe):
    client, now = probe
    assert _get(client) == ("render 1", "miss")
    now[0] += 29
    assert _get(client) == ("render 1", "hit")
    now[0] += 2  # 31 s: expired
    # While another request renders it again, the expired copy is served...
    key = next(iter(cache._entries))
    cache._refreshing.add(key)
    assert _get(client) == ("render 1", "stale")
    now[0] += 29  # ...up to 60 s old
    assert _get(client) == ("render 1", "stale")
    now[0] += 1.5  # and never older, even while the re-render has not finished
    assert _get(client) == ("render 2", "miss")
    cache._refreshing.discard(key)


def test_an_expired_copy_is_rendered_again_after_the_capped_ttl(probe):
    client, now = probe
    assert _get(client) == ("render 1", "miss")
    now[0] += 31
    assert _get(client) == ("render 2", "miss")
    assert _get(client) == ("render 2", "hit")
