"""One TOTP code offered by several requests at the same moment (a replayed code, a double
submit): the account's last accepted step moves forward by a conditional update, so exactly
one request is signed in (PostgreSQL with real connections in CI; SQLite too)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from portal.extensions import db as _db
from tests.conftest import real_scratch_database

N = 8


def test_one_code_offered_at_once_signs_in_once(tmp_path_factory):
    with real_scratch_database(tmp_path_factory, "totp_race") as url:
        _race(tmp_path_factory, url)


def _race(tmp_path_factory, url: str) -> None:
    from portal.accounts.mfa import _TOTP
    from portal.demo import DEMO_TOTP_SECRET, PASSWORD
    from tests.conftest import build_app

    app = build_app(tmp_path_factory, url, RATELIMIT_ENABLED=False, WTF_CSRF_ENABLED=False)
    barrier = threading.Barrier(N)
    otp = _TOTP(DEMO_TOTP_SECRET).now()
    body = {"email": "committee@example.org", "password": PASSWORD, "otp": otp}

    def submit(_i: int) -> tuple[int, str]:
        client = app.test_client()
        barrier.wait(timeout=30)
        r = client.post("/api/v1/auth/token", json=body)
        return r.status_code, (r.json or {}).get("error", {}).get("code", "")

    try:
        with ThreadPoolExecutor(max_workers=N) as pool:
            answers = list(pool.map(submit, range(N)))
        assert sorted(answers) == sorted([(201, "")] + [(401, "invalid_otp")] * (N - 1)), answers
    finally:
        with app.app_context():
            _db.engine.dispose()
