"""Hostile input on every route: never a server error, whoever sends it.

Walks the URL map (every page and API operation), fills the path variables with real and
hostile values, and sends what has broken the app before: integers past PostgreSQL's
``integer``, cursors of the wrong shape, NUL and lone surrogates in paths, query strings, JSON
and form fields, huge lists, deeply nested JSON, invalid UTF-8 and wrong content types, as a
visitor, a resident and a committee member. In testing mode the app re-raises what would be a
500, so an exception is a failure too. On PostgreSQL this catches what SQLite lets through.
"""

from __future__ import annotations

import base64
import json
import re

import pytest
from wtforms.fields.core import UnboundField

from portal.core.forms import FlaskForm
from portal.core.input import MAX_ID

BIG = MAX_ID + 1
HUGE = 99999999999


def _b64(value) -> str:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


BAD_CURSORS = [
    _b64([True]),
    _b64([BIG]),
    _b64([HUGE, HUGE]),
    _b64(["2026-01-01T00:00:00+00:00", "proposal", BIG]),
    _b64(["x", True]),
    _b64({"a": 1}),
    _b64(b"\xff\xfe junk"),
    _b64(b"[" * 5000),
    "%00",
    "!!!",
]

# One of each hostile value per query parameter name any view reads.
QUERY_NAMES = [
    "cursor", "after", "before", "limit", "q", "status", "sort", "stance", "order", "community",
    "district", "category", "agency", "state", "overdue", "unread", "find", "code", "tab",
    "action", "subject_type", "next", "size", "page",
]  # fmt: skip
QUERY_VALUES = [str(BIG), str(HUGE), "-1", "0", "[true]", "%00", "%ED%A0%80", "%FF"]

# JSON members any API operation reads, each with values of every wrong kind.
ID_MEMBERS = ["target_id", "parent_id", "duplicate_of", "action_id", "satisfaction", "limit"]
TEXT_MEMBERS = [
    "email", "password", "display_name", "locale", "community_code", "address_note",
    "invitation_code", "decision", "reason", "title", "summary", "body", "category", "grid_code",
    "location_note", "reason_code", "note", "action", "agency_code", "expected_at", "comment",
    "stance", "target_type", "until",
]  # fmt: skip


def _json_bodies() -> list[bytes]:
    bodies = []
    for bad in ("\\u0000", "\\ud800", "\\udfff x"):
        bodies.append(("{" + ",".join(f'"{m}":"{bad}"' for m in TEXT_MEMBERS) + "}").encode())
    for number in (BIG, HUGE, -BIG, 10**30, 1e308):
        members = dict.fromkeys(ID_MEMBERS, number)
        bodies.append(json.dumps({**members, "ids": [number], "target_type": "comment"}).encode())
    bodies.append(json.dumps(dict.fromkeys(ID_MEMBERS + TEXT_MEMBERS, True)).encode())
    bodies.append(json.dumps({m: [] for m in ID_MEMBERS + TEXT_MEMBERS}).encode())
    bodies.append(json.dumps({"ids": list(range(1, 70_001))}).encode())
    bodies.append(b"[" * 10_000 + b"]" * 10_000)
    bodies.append(b'{"a":' * 10_000 + b"1" + b"}" * 10_000)
    bodies.append(b'{"title": "\xff\xfe"}')
    bodies.append(b"null")
    bodies.append(b"")
    return bodies


JSON_BODIES = _json_bodies()


def _form_fields() -> list[str]:
    names: set[str] = {"csrf_token", "next", "lang", "mode", "back", "target", "action"}
    todo = list(FlaskForm.__subclasses__())
    while todo:
        cls = todo.pop()
        todo += cls.__subclasses__()
        for klass in cls.__mro__:
            names |= {n for n, v in vars(klass).items() if isinstance(v, UnboundField)}
    return sorted(names | {f"{p}-{n}" for n in names for p in ("act", "fb", "join", "invite")})


def _path_values(app, db) -> dict[str, str]:
    from portal.cases.models import Case
    from portal.proposals.models import Proposal

    proposal = db.session.scalar(db.select(Proposal.id).order_by(Proposal.id))
    case = db.session.scalar(db.select(Case.number).order_by(Case.id))
    return {
        "id": str(proposal or 1),
        "code": "110101001001",
        "number": case or "X",
        "token": "nonsense",
        "size": "thumb",
        "filename": "nope.css",
    }


HOSTILE_PATH = {
    "id": [str(BIG), str(HUGE), "0", "-1", "1%00"],
    "default": ["%00", "a%00b", "%ED%A0%80", "%FF%FE", str(HUGE) * 3],
}

_VAR = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def _fill(rule: str, values: dict[str, str], hostile: tuple[str, str] | None = None) -> str:
    """The rule's path with its variables filled; ``hostile`` = (variable, value) to use."""

    def one(m: re.Match) -> str:
        converter, name = m.group(1) or "default", m.group(2)
        if hostile and hostile[0] == name:
            return hostile[1]
        if converter == "id":
            return values["id"]
        if converter == "any":
            return values["size"]
        return values.get(name, values["code"])

    return _VAR.sub(one, rule)


def _variables(rule: str) -> list[tuple[str, str]]:
    return [(m.group(1) or "default", m.group(2)) for m in _VAR.finditer(rule)]


class Recorder:
    def __init__(self):
        self.failures: list[str] = []
        self.sent = 0

    def send(self, client, method: str, url: str, expect_4xx: bool = False, **kwargs):
        self.sent += 1
        try:
            r = client.open(url, method=method, **kwargs)
        except Exception as err:  # the app re-raises in testing mode: that is a 500
            self.failures.append(f"{method} {url[:150]}: raised {type(err).__name__}: {err}")
            from portal.extensions import db

            db.session.rollback()  # what the 500 handler does, so the walk can go on
            return None
        refused = 400 <= r.status_code < 500 or (
            r.status_code == 302 and "/login" in r.headers.get("Location", "")
        )
        if r.status_code >= 500 or (expect_4xx and not refused):
            self.failures.append(f"{method} {url[:150]}: {r.status_code}")
        return r


@pytest.fixture
def hostile_app(app, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_ENABLED", False)
    return app


@pytest.mark.parametrize("who", ["anonymous", "resident", "committee"])
def test_hostile_input_never_breaks_a_route(hostile_app, db, who, login_as, api_token):
    import portal.core.validation  # noqa: F401 - the API models are loaded with the app

    app = hostile_app
    client = app.test_client()
    headers = {}
    if who != "anonymous":
        headers = api_token(who)
    values = _path_values(app, db)
    fields = _form_fields()
    rec = Recorder()
    rules = sorted(
        (r for r in app.url_map.iter_rules() if r.endpoint != "static"), key=lambda r: r.rule
    )
    for rule in rules:
        api = rule.rule.startswith("/api/")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            token = ""
            if api and who != "anonymous":
                headers = api_token(who)  # again: a route may have revoked the token
            if not api:
                if who != "anonymous":
                    login_as(who, client)  # again: a route may have signed the client out
                # Forms get the hostile fields past the CSRF check.
                token = client.csrf_token("/login" if who == "anonymous" else "/account")
            h = headers if api else {}
            # Hostile path values: nothing lives there.
            for converter, name in _variables(rule.rule):
                for bad in HOSTILE_PATH.get(converter, HOSTILE_PATH["default"]):
                    if converter == "any":
                        continue
                    url = _fill(rule.rule, values, (name, bad))
                    # An id out of range or NUL anywhere: nothing lives there. Other text
                    # (a mangled token, say) is the view's to judge.
                    expect = converter == "id" or "%00" in bad
                    rec.send(client, method, url, expect_4xx=expect, headers=h)
            url = _fill(rule.rule, values)
            if method == "GET":
                for value in QUERY_VALUES:
                    query = "&".join(f"{n}={value}" for n in QUERY_NAMES)
                    expect = "%00" in value  # the guard turns NUL away wherever it is
                    rec.send(client, method, f"{url}?{query}", expect_4xx=expect, headers=h)
                for cursor, after in zip(BAD_CURSORS, reversed(BAD_CURSORS), strict=True):
                    query = f"cursor={cursor}&after={after}"
                    rec.send(client, method, f"{url}?{query}", headers=h)
                continue
            if api:
                for raw in JSON_BODIES:
                    rec.send(
                        client,
                        method,
                        url,
                        data=raw,
                        headers={**h, "Content-Type": "application/json"},
                    )
                rec.send(
                    client,
                    method,
                    url,
                    data=b"\xff\xfe",
                    headers={**h, "Content-Type": "text/plain"},
                )
                rec.send(client, method, url, data={"title": "x"}, headers=h)
            else:
                for bad in ("\x00", "a\x00b", "\ud800", str(HUGE)):
                    form = dict.fromkeys(fields, bad) | {"csrf_token": token}
                    rec.send(
                        client,
                        method,
                        url,
                        data=_encoded(form),
                        headers={"Content-Type": "application/x-www-form-urlencoded"},
                    )
                rec.send(
                    client,
                    method,
                    url,
                    data=b"title=%FF%FE&body=%ED%A0%80&csrf_token=" + token.encode(),
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                )
    assert rec.sent > 1000
    failures = "\n".join(f[:300] for f in rec.failures[:40])
    assert not rec.failures, f"{len(rec.failures)} of {rec.sent}:\n{failures}"


def _encoded(form: dict[str, str]) -> bytes:
    """URL-encode as a browser would, surrogates as their (invalid) UTF-8 bytes."""
    from urllib.parse import quote_from_bytes

    return "&".join(
        f"{k}={quote_from_bytes(v.encode('utf-8', 'surrogatepass'))}" for k, v in form.items()
    ).encode()
