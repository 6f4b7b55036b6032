"""One WeChat user is linked to one account, even when two numbers are linked with it in
parallel: the unique column decides (PostgreSQL with real connections in CI; SQLite too, where
writers queue on the lock)."""

from __future__ import annotations

import re

import sqlalchemy as sa

from portal.extensions import db as _db
from tests.accounts.test_sms_race import _app, _at_once
from tests.conftest import real_scratch_database
from tests.notifications.fakes import fake_server

N = 6
OPENID = "oA1b2C3d4E5f6G7h8I9j0K"


def _wechat(_seen):
    return 200, {"openid": OPENID, "session_key": "tiihtNczf5v6AKRyjwEUhQ=="}, "text/plain"


def test_parallel_links_of_one_wechat_user_link_one_account(tmp_path_factory):
    with (
        fake_server(_wechat) as fake,
        real_scratch_database(tmp_path_factory, "wechat_race") as url,
    ):
        app = _app(
            tmp_path_factory,
            url,
            WECHAT_APP_ID="wx0123456789abcdef",
            WECHAT_APP_SECRET="test-app-secret",
            WECHAT_API_BASE=fake.url,
        )
        client = app.test_client()
        phones = [f"+86139123450{i:02d}" for i in range(N)]
        prepared = []
        for phone in phones:
            r = client.post("/api/v1/auth/wechat", json={"code": "c"})
            assert r.status_code == 409, r.get_json()
            assert client.post("/api/v1/auth/sms-code", json={"phone": phone}).status_code == 202
            with app.app_context():
                from portal.notifications.models import OutboxMessage

                body = _db.session.scalar(
                    sa.select(OutboxMessage.body).where(OutboxMessage.to_address == phone)
                )
                _db.session.remove()
            code = re.search(r"\b(\d{6})\b", body).group(1)
            prepared.append((r.get_json()["link_token"], phone, code))

        def link(c, i):
            token, phone, code = prepared[i]
            body = {"link_token": token, "phone": phone, "code": code, "accept_privacy": True}
            r = c.post("/api/v1/auth/wechat/link", json=body)
            return r.status_code, (r.get_json() or {}).get("error", {}).get("code")

        answers = _at_once(app, N, link)
        assert sorted(answers, key=str) == sorted(
            [(200, None)] + [(409, "wechat_already_linked")] * (N - 1), key=str
        ), answers
        with app.app_context():
            from portal.accounts.models import User

            linked = _db.session.scalars(
                sa.select(User.phone).where(User.wechat_openid == OPENID)
            ).all()
            assert len(linked) == 1
            _db.session.remove()
