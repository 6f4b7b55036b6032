"""Parallel requests cannot pass the SMS code caps or use one code twice: the caps are
decided with the number's row locked (PostgreSQL with real connections in CI; SQLite too, where
writers queue on the lock). The app runs with RATELIMIT_ENABLED=0: these are the database's
rules, not the rate limiter's."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from portal.extensions import db as _db
from tests.conftest import real_scratch_database

N = 10
PHONE = "+8613912345678"


def _app(tmp_path_factory, url, **overrides):
    from tests.conftest import build_app

    return build_app(
        tmp_path_factory, url, RATELIMIT_ENABLED=False, WTF_CSRF_ENABLED=False, **overrides
    )


def _at_once(app, n: int, request) -> list:
    barrier = threading.Barrier(n)

    def run(i: int):
        client = app.test_client()
        barrier.wait(timeout=30)
        return request(client, i)

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n)))


def test_parallel_sends_stay_within_the_caps(tmp_path_factory):
    with real_scratch_database(tmp_path_factory, "sms_race") as url:
        # No wait between codes, so only the hourly cap of 5 per (number, address) holds them.
        app = _app(tmp_path_factory, url, SMS_RESEND_SECONDS=0)

        def send(client, _i):
            r = client.post("/api/v1/auth/sms-code", json={"phone": PHONE})
            return r.status_code, (r.get_json() or {}).get("error", {}).get("code")

        answers = _at_once(app, N, send)
        assert sorted(answers, key=str) == sorted(
            [(202, None)] * 5 + [(429, "too_many")] * (N - 5), key=str
        ), answers
        with app.app_context():
            from portal.accounts.models import SmsCode

            assert _db.session.scalar(sa.select(sa.func.count(SmsCode.id))) == 5
            _db.session.remove()


def test_parallel_sends_get_one_code_a_minute(tmp_path_factory):
    with real_scratch_database(tmp_path_factory, "sms_race_soon") as url:
        app = _app(tmp_path_factory, url)

        def send(client, i):
            # From different addresses: the wait is the number's, wherever one asks from.
            r = client.post(
                "/api/v1/auth/sms-code",
                json={"phone": PHONE},
                environ_base={"REMOTE_ADDR": f"10.0.0.{i + 1}"},
            )
            return r.status_code

        answers = _at_once(app, N, send)
        assert sorted(answers) == [202] + [429] * (N - 1), answers


def test_one_code_used_in_parallel_signs_in_once(tmp_path_factory):
    with real_scratch_database(tmp_path_factory, "sms_race_use") as url:
        app = _app(tmp_path_factory, url)
        client = app.test_client()
        assert client.post("/api/v1/auth/sms-code", json={"phone": PHONE}).status_code == 202
        with app.app_context():
            from portal.notifications.models import OutboxMessage

            body = _db.session.scalar(
                sa.select(OutboxMessage.body).where(OutboxMessage.to_address == PHONE)
            )
            _db.session.remove()
        code = re.search(r"\b(\d{6})\b", body).group(1)

        def use(client, _i):
            body = {"phone": PHONE, "code": code, "accept_privacy": True}
            return client.post("/api/v1/auth/token", json=body).status_code

        answers = _at_once(app, 6, use)
        assert sorted(answers) == [200] + [401] * 5, answers
        with app.app_context():
            from portal.accounts.models import User

            assert (
                _db.session.scalar(sa.select(sa.func.count(User.id)).where(User.phone == PHONE))
                == 1
            )
            _db.session.remove()
