"""One registration link submitted by several requests at the same moment (a double click, two
tabs): one creates the account, the others are told the link is used; never a 500
(PostgreSQL with real connections in CI; SQLite too, where writers queue on the lock)."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from portal.extensions import db as _db
from tests.conftest import real_scratch_database

N = 8
PASSWORD = "plum tree lantern 42 harbour"


def test_one_registration_link_submitted_at_once_creates_one_account(tmp_path_factory):
    with real_scratch_database(tmp_path_factory, "register_race") as url:
        _race(tmp_path_factory, url)


def _race(tmp_path_factory, url: str) -> None:
    from portal.accounts import services
    from portal.accounts.models import User
    from portal.notifications.models import OutboxMessage
    from tests.conftest import build_app

    app = build_app(tmp_path_factory, url, RATELIMIT_ENABLED=False, WTF_CSRF_ENABLED=False)
    with app.test_request_context("/"):
        services.register("racing@example.org", "赛跑的人", "zh_Hans")
        _db.session.commit()
        body = _db.session.scalar(
            sa.select(OutboxMessage.body).where(OutboxMessage.to_address == "racing@example.org")
        )
        _db.session.remove()
    link = re.search(r"https?://[^/]+(/register/\S+)", body).group(1)
    barrier = threading.Barrier(N)

    def submit(_i: int) -> tuple[int, str]:
        client = app.test_client()
        barrier.wait(timeout=30)
        r = client.post(link, data={"password": PASSWORD, "confirm": PASSWORD})
        return r.status_code, r.headers.get("Location", "")

    try:
        with ThreadPoolExecutor(max_workers=N) as pool:
            answers = list(pool.map(submit, range(N)))
        codes = sorted({code for code, _where in answers})
        assert codes == [302], answers  # never a 500
        places = sorted(where.split("?")[0] for _code, where in answers)
        assert places == ["/login"] * (N - 1) + ["/residency"], answers
        with app.app_context():
            rows = _db.session.scalar(
                sa.select(sa.func.count(User.id)).where(User.email == "racing@example.org")
            )
            assert rows == 1
            _db.session.remove()
    finally:
        with app.app_context():
            _db.engine.dispose()
