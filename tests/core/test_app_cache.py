"""The app's own cache (Flask-Caching): on Redis and shared by every worker, or none at all;
never a copy per process. Its entries (the city's time zone, whose token a hash is) expire on
their own or are dropped by the change they describe."""

from __future__ import annotations

import os
import secrets

import pytest

from portal.config import load_config


def test_the_cache_is_redis_with_redis_and_otherwise_none():
    assert load_config({"REDIS_URL": None})["CACHE_TYPE"] == "NullCache"
    with_redis = load_config({"REDIS_URL": "redis://127.0.0.1:6379/3"})
    assert with_redis["CACHE_TYPE"] == "RedisCache"
    assert with_redis["CACHE_REDIS_URL"] == "redis://127.0.0.1:6379/3"
    # The benchmark's "app alone" (and anyone who wants it off) keeps Redis for the limits.
    off = load_config({"REDIS_URL": "redis://127.0.0.1:6379/3", "CACHE_TYPE": "NullCache"})
    assert off["CACHE_TYPE"] == "NullCache"


@pytest.fixture
def two_workers(tmp_path_factory):
    """Two apps on one database and one Redis, as two gunicorn workers are."""
    redis_url = os.environ.get("TEST_REDIS_URL")
    if not redis_url:
        pytest.skip("TEST_REDIS_URL not set (CI sets it)")
    from tests.conftest import build_app, real_scratch_database

    prefix = f"commons-test-workers-{secrets.token_hex(4)}:"
    settings = {
        "REDIS_URL": redis_url,
        "CACHE_TYPE": "RedisCache",
        "CACHE_REDIS_URL": redis_url,
        "CACHE_KEY_PREFIX": prefix,
    }
    with real_scratch_database(tmp_path_factory, "workers") as url:
        first = build_app(tmp_path_factory, url, **settings)
        from portal.extensions import db

        second = build_app(tmp_path_factory, url, **settings)
        yield first, second
        for app in (first, second):
            with app.app_context():
                from portal.extensions import cache

                cache.clear()
                db.engine.dispose()


def test_workers_see_a_changed_time_zone_at_once(two_workers):
    from portal.core.i18n import city_timezone_name
    from portal.extensions import db
    from portal.places.models import City

    first, second = two_workers
    with first.test_request_context("/"):
        assert city_timezone_name() == "Asia/Shanghai"  # now cached for both
    with second.test_request_context("/"):
        city = db.session.scalar(db.select(City).order_by(City.id).limit(1))
        city.timezone = "Asia/Urumqi"
        db.session.commit()  # the write drops the cached entry
    with first.test_request_context("/"):
        assert city_timezone_name() == "Asia/Urumqi"


def test_a_token_is_looked_up_once_and_forgotten_when_it_fails(two_workers):
    from sqlalchemy import event

    from portal.accounts.auth import forget_token, hash_token, token_user_id
    from portal.accounts.services import find_by_email, issue_token
    from portal.extensions import db

    first, second = two_workers
    with first.test_request_context("/"):
        user = find_by_email("resident1@example.org")
        raw, _row = issue_token(user)
        db.session.commit()
        token_hash = hash_token(raw)
        assert token_user_id(token_hash) == user.id
    statements = []
    with second.app_context():
        engine = db.engine
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        with second.test_request_context("/"):
            assert token_user_id(token_hash) == user.id  # the first worker's answer
        assert statements == []
        with second.test_request_context("/"):
            forget_token(token_hash)
            token_user_id(token_hash)
        assert len(statements) == 1
    finally:
        event.remove(engine, "before_cursor_execute", listener)
