"""Links sent out of the site come from PUBLIC_URL; unknown hosts are refused (issue #12)."""

from __future__ import annotations

import re

import pytest
import segno

from portal import create_app
from portal.config import ConfigError
from portal.notifications.models import OutboxMessage
from tests.conftest import build_app, real_session

PUBLIC = "https://commons.example"
EVIL = "evil.example"


def _token(client, page: str, **kwargs) -> str:
    html = client.get(page, **kwargs).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def _mails(db, kind: str) -> list[str]:
    return list(
        db.session.scalars(
            db.select(OutboxMessage.body)
            .where(OutboxMessage.kind == kind)
            .order_by(OutboxMessage.id.desc())
        )
    )


def _links(body: str) -> list[str]:
    return re.findall(r"https?://\S+", body)


def _send_reset_and_confirmation(client, email: str, **kwargs) -> None:
    """A password reset for ``email`` and two registrations (a new address gets its link, the
    taken ``email`` a notice), all sent with the request options in ``kwargs`` (a forged Host,
    X-Forwarded-Host)."""
    token = _token(client, "/reset", **kwargs)
    r = client.post("/reset", data={"csrf_token": token, "email": email}, **kwargs)
    assert r.status_code == 302
    token = _token(client, "/register", **kwargs)
    for address in ("fresh.person@example.org", email):  # a new address, a taken one
        data = {
            "csrf_token": token,
            "email": address,
            "display_name": "新居民",
            "locale": "zh_Hans",
        }
        assert client.post("/register", data=data, **kwargs).status_code == 200  # check mail


def _assert_only_public_links(db, public: str) -> None:
    for kind in ("reset_password", "confirm_email", "register_existing"):
        body = _mails(db, kind)[0]
        links = _links(body)
        assert links, body
        assert all(link.startswith(public + "/") for link in links), links
        assert EVIL not in body


def test_mail_links_ignore_a_forged_host(app, client, db, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_URL", PUBLIC)
    _send_reset_and_confirmation(client, "resident1@example.org", base_url=f"http://{EVIL}")
    _assert_only_public_links(db, PUBLIC)


def test_invitation_qr_codes_ignore_a_forged_host(app, db, login_as, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_URL", PUBLIC)
    encoded: list[str] = []
    real_make = segno.make

    def spy(content, *args, **kwargs):
        encoded.append(content)
        return real_make(content, *args, **kwargs)

    monkeypatch.setattr(segno, "make", spy)
    staff = app.test_client()
    login_as("committee", staff)
    page = "/communities/110101001001/invitations"
    r = staff.form(page, {"size": 2, "label": "1号楼", "valid_days": 90}, page=page)
    assert r.status_code == 302
    session = staff.get_cookie("commons_session")
    staff.set_cookie("commons_session", session.value, domain=EVIL)
    html = staff.get(r.headers["Location"], base_url=f"http://{EVIL}").get_data(as_text=True)
    assert len(encoded) == 2
    assert all(
        re.fullmatch(rf"{PUBLIC}/residency\?code=[A-Z0-9]{{5}}-[A-Z0-9]{{5}}", c) for c in encoded
    )
    assert f"{PUBLIC}/residency" in html and EVIL not in html


@pytest.fixture
def production(tmp_path_factory, monkeypatch):
    """The production configuration (behind one proxy) on a database of its own."""
    monkeypatch.delenv("TRUSTED_HOSTS", raising=False)
    url = f"sqlite:///{tmp_path_factory.mktemp('prod') / 'db.sqlite3'}"
    # Email sign-in allowed too (production's default is phone alone): the links are mailed.
    app = build_app(
        tmp_path_factory,
        url,
        COMMONS_ENV="production",
        PUBLIC_URL=PUBLIC,
        SIGN_IN_METHODS="phone,email",
    )
    with real_session():
        yield app


def test_production_mail_links_ignore_forwarded_and_host_headers(production):
    from portal.extensions import db

    client = production.test_client()
    forged = {"X-Forwarded-Host": EVIL, "X-Forwarded-Proto": "https", "X-Forwarded-For": "1.2.3.4"}
    _send_reset_and_confirmation(client, "resident1@example.org", base_url=PUBLIC, headers=forged)
    with production.app_context():
        _assert_only_public_links(db, PUBLIC)


def test_production_refuses_unknown_hosts_with_the_usual_errors(production):
    assert production.config["TRUSTED_HOSTS"] == ["commons.example"]
    client = production.test_client()
    assert client.get("/", base_url=PUBLIC).status_code == 200
    assert client.get("/", base_url=PUBLIC + ":443").status_code == 200
    # Host names are case-insensitive: the site's own name in capitals is the site.
    shouted = client.get("/", base_url=PUBLIC, headers={"Host": "Commons.EXAMPLE"})
    assert shouted.status_code == 200
    page = client.get("/reset", base_url=f"https://{EVIL}", headers={"Accept-Language": "en"})
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert "Bad request" in html and "Error code: 400" in html and EVIL not in html
    api = client.get("/api/v1/communities", base_url=f"https://{EVIL}")
    assert api.status_code == 400 and api.get_json()["error"]["code"] == "bad_request"
    # Nothing behind the refusal runs: not even for a path that does not exist.
    assert client.get("/nope", base_url=f"https://{EVIL}").status_code == 400
    assert client.post("/reset", base_url=f"https://{EVIL}").status_code == 400


def test_production_requires_a_public_url(monkeypatch):
    monkeypatch.delenv("PUBLIC_URL", raising=False)
    config = {
        "COMMONS_ENV": "production",
        "SECRET_KEY": "x" * 32,
        "SQLALCHEMY_DATABASE_URI": "sqlite://",
    }
    with pytest.raises(ConfigError, match="PUBLIC_URL"):
        create_app(config)
    for bad in ("commons.example", "ftp://commons.example", "https://", "https://a.example/?x=1"):
        with pytest.raises(ConfigError, match="PUBLIC_URL"):
            create_app({**config, "PUBLIC_URL": bad})


def test_trusted_hosts_from_the_environment(monkeypatch):
    monkeypatch.setenv("TRUSTED_HOSTS", "Commons.example, .city.example")
    app = create_app(
        {
            "COMMONS_ENV": "production",
            "SECRET_KEY": "x" * 32,
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "PUBLIC_URL": "https://www.commons.example/",
        }
    )
    assert app.config["PUBLIC_URL"] == "https://www.commons.example"
    # The site's own address is always among them.
    assert app.config["TRUSTED_HOSTS"] == [
        "commons.example",
        ".city.example",
        "www.commons.example",
    ]


def test_external_url_outside_a_request_and_under_a_path(app, monkeypatch):
    from portal.core.urls import external_url

    monkeypatch.setitem(app.config, "PUBLIC_URL", "https://commons.example/city")
    with app.app_context():
        assert external_url("accounts.reset_password", token="t") == (
            "https://commons.example/city/reset/t"
        )
        assert external_url("residency.status", code="ABCDE-FGHJK") == (
            "https://commons.example/city/residency?code=ABCDE-FGHJK"
        )


def test_no_link_is_built_from_the_request_host():
    """external_url is the one way to an absolute link; url_for(..., _external=True) follows
    the Host of whoever sent the request."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    offenders = [
        f"{path.relative_to(root)}:{n}"
        for folder in ("portal", "templates")
        for path in (root / folder).rglob("*.*")
        if path.suffix in {".py", ".html", ".txt"}
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "_external" in line and path.name != "urls.py"
    ]
    assert offenders == []


def test_a_url_maker_builds_what_url_for_builds_under_a_script_root(app):
    """Links built once per page and filled with each card's value are url_for's own, under
    a sub-path too; a value that would need quoting goes through url_for itself."""
    from flask import url_for

    from portal.core.urls import url_maker

    for root in ("", "/commons"):
        with app.test_request_context("/", base_url=f"http://127.0.0.1{root}"):
            proposal = url_maker("proposals.show", "proposal_id")
            case = url_maker("cases.show", "number")
            for pid in (1, 42, 1987654321):
                assert proposal(pid) == url_for("proposals.show", proposal_id=pid)
            for number in ("110101001001-2026-0001", "a b/é?", "x" * 3):
                assert case(number) == url_for("cases.show", number=number)
            assert proposal(7).startswith(f"{root}/")


@pytest.mark.parametrize("script_root", ["", "/commons"])
def test_a_list_links_each_card_as_url_for_would(app, script_root):
    """``url_maker`` asks ``url_for`` once and writes each id in; under a script root (a site
    served below a path) and with extra values, each link is the one ``url_for`` builds."""
    from flask import url_for

    from portal.core.urls import url_maker

    with app.test_request_context("/", base_url=f"http://localhost{script_root}"):
        link = url_maker("proposals.show", "proposal_id")
        photo = url_maker("proposals.photo", "photo_id", proposal_id=7, size="thumb")
        for i in (1, 42, 2**31 - 1):
            assert link(i) == url_for("proposals.show", proposal_id=i)
            assert photo(i) == url_for("proposals.photo", proposal_id=7, photo_id=i, size="thumb")
        assert link(5).startswith(f"{script_root}/proposals/")


@pytest.mark.parametrize("script_root", ["", "/commons"])
def test_a_query_url_maker_builds_what_url_for_builds(app, script_root):
    """``query_url_maker`` asks ``url_for`` once per shape of query and writes each value in:
    the same order of parameters, a None left out as url_for leaves it out, and a value or key
    that needs quoting (or a key that is part of the path) built by ``url_for`` itself."""
    from flask import url_for

    from portal.core.urls import query_url_maker

    queries = [
        {},
        {"kind": "due", "start": "2026-01-01", "end": "2026-03-31"},
        {"kind": "due", "start": "2026-01-01", "end": "2026-03-31", "outcome": "on_time"},
        {"kind": "closed", "start": "2026-01-01", "end": "2026-03-31", "agency": "water-bureau"},
        {"kind": "response", "start": None, "end": "2026-03-31", "district": "110101"},
        {"sort": "name", "dir": "asc", "period": None},
        {"sort": "name", "dir": "asc", "period": "a b&c=ü"},
        {"sort": "name", "dir": "asc", "x": "/?#%"},
        {"sort": "name", "dir": "", "period": "year"},
        {"page": 3, "n": 2**31 - 1},
        {"flag": True},
        {"a b": "x", "ü": "y"},
        {"é": "plain"},
        {"agency": "water-bureau", "period": "30d", "start": None, "end": None},
    ]
    with app.test_request_context("/", base_url=f"http://127.0.0.1{script_root}"):
        dashboard = query_url_maker("dashboard.index")
        cases = query_url_maker("dashboard.cases")
        photo = query_url_maker("proposals.photo", proposal_id=7)
        for query in queries * 2:  # the second time from the shapes already built
            assert dashboard(**query) == url_for("dashboard.index", **query)
            assert cases(**query) == url_for("dashboard.cases", **query)
        for query in ({"photo_id": 3, "size": "thumb"}, {"photo_id": 3}, {"photo_id": 3, "v": "2"}):
            assert photo(**query) == url_for("proposals.photo", proposal_id=7, **query)
        assert dashboard(sort="name").startswith(f"{script_root}/dashboard?")


def test_a_query_url_maker_asks_url_for_once_per_shape(app, monkeypatch):
    from flask import url_for

    from portal.core import urls

    asked = []

    def counting(*args, **kwargs):
        asked.append(args)
        return url_for(*args, **kwargs)

    monkeypatch.setattr(urls, "url_for", counting)
    with app.test_request_context("/"):
        cases = urls.query_url_maker("dashboard.cases")
        links = {cases(kind="due", agency=f"agency-{i}", outcome=None) for i in range(20)}
        assert len(links) == 20 and len(asked) == 1
        cases(kind="due", agency="water bureau", outcome=None)  # needs quoting: url_for
        assert len(asked) == 2
