"""Open311 GeoReport v2: conformance with the published field lists in both formats, the
filters and their bad input, API keys, and POST → review → case → token."""

from __future__ import annotations

import json
from datetime import timedelta

import jsonschema
import pytest
import sqlalchemy as sa

from portal.cases import services as cases
from portal.cases.models import CaseState
from portal.core import clock
from portal.places.models import Grid
from portal.proposals import services as proposals
from portal.proposals.models import Proposal, Status, Support
from portal.transparency.open311 import services as o311
from portal.transparency.open311.models import Open311Key, Open311Request
from tests.conftest import user_by_email
from tests.transparency import open311_spec as spec

BASE = "/open311/v2"
SQUARE = {  # about 110 m × 110 m near Dongcheng, WGS84
    "type": "Polygon",
    "coordinates": [
        [
            [116.400, 39.900],
            [116.401, 39.900],
            [116.401, 39.901],
            [116.400, 39.901],
            [116.400, 39.900],
        ]
    ],
}


def get_json(client, path, expect=200, schema=None, **query):
    r = client.get(f"{BASE}/{path}.json", query_string=query)
    assert r.status_code == expect, r.get_data(as_text=True)
    assert r.mimetype == "application/json"
    data = r.get_json()
    jsonschema.validate(data, schema or (spec.ERRORS if expect >= 400 else {}))
    return data


def get_xml(client, path, expect=200, **query):
    r = client.get(f"{BASE}/{path}.xml", query_string=query)
    assert r.status_code == expect, r.get_data(as_text=True)
    assert r.mimetype == "text/xml" and r.mimetype_params.get("charset") == "utf-8"
    return spec.parse_xml(r.get_data())


def xml_errors(root) -> list[dict]:
    return spec.xml_items(root, "errors", "error", ("code", "description"))


@pytest.fixture
def grid_case(make_case, db):
    """A case in progress (the liaison planned a date) on a grid with a polygon."""
    case = make_case("in_progress")
    grid = db.session.scalar(sa.select(Grid).where(Grid.community_id == case.community_id))
    grid.geometry = json.dumps(SQUARE)
    case.grid_id = grid.id
    db.session.commit()
    return case


@pytest.fixture
def key(db):
    admin = user_by_email("admin@example.org")
    _row, raw = o311.create_key(admin, "12345 热线")
    db.session.commit()
    return raw


def resident():
    return user_by_email("resident1@example.org")


def post(client, fmt="json", **form):
    return client.post(f"{BASE}/requests.{fmt}", data=form)


def filing(key, **extra):
    return {
        "api_key": key,
        "service_code": "health",
        "attribute[community_code]": "110101001001",
        "email": "resident1@example.org",
        "description": "社区卫生站太远\n老人看病要走四十分钟。",
        **extra,
    }


# --- discovery and services ------------------------------------------------------------------


def test_discovery_in_both_formats(client):
    doc = get_json(client, "discovery", schema=spec.DISCOVERY)
    endpoint = doc["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith("/open311/v2")
    assert set(endpoint["formats"]) == {"text/xml", "application/json"}
    root = get_xml(client, "discovery")
    assert root.tag == "discovery"
    formats = [f.text for f in root.find("endpoints/endpoint/formats")]
    assert formats == ["text/xml", "application/json"]
    assert root.findtext("endpoints/endpoint/type") == "production"


def test_services_are_the_active_categories(client, db):
    from portal.proposals.models import Category

    data = get_json(client, "services", schema=spec.SERVICES)
    active = db.session.scalars(sa.select(Category.code).where(Category.active)).all()
    assert {s["service_code"] for s in data} == set(active)
    health = next(s for s in data if s["service_code"] == "health")
    assert health["type"] == "batch" and health["metadata"] is True
    assert "health" in health["keywords"].split(",")
    items = spec.xml_items(get_xml(client, "services"), "services", "service", spec.SERVICE_FIELDS)
    assert {i["service_code"] for i in items} == set(active)
    assert {i["metadata"] for i in items} == {"true"} and {i["type"] for i in items} == {"batch"}


def test_a_service_definition_names_the_community_attribute(client):
    data = get_json(client, "services/health", schema=spec.DEFINITION)
    community = next(a for a in data["attributes"] if a["code"] == "community_code")
    assert community["required"] is True and community["variable"] is True
    root = get_xml(client, "services/health")
    assert root.tag == "service_definition" and root.findtext("service_code") == "health"
    attrs = spec.xml_items(
        root.find("attributes"), "attributes", "attribute", spec.ATTRIBUTE_FIELDS
    )
    assert {"community_code", "title", "grid_code"} == {a["code"] for a in attrs}


def test_an_unknown_service_code_is_404_in_the_format_asked(client):
    errors = get_json(client, "services/no-such-thing", expect=404)
    assert errors[0]["code"] == 404
    assert xml_errors(get_xml(client, "services/no-such-thing", expect=404))[0]["code"] == "404"


@pytest.mark.parametrize("path", ["services.yaml", "requests.html", "discovery.JSONX"])
def test_an_unknown_format_is_404_in_xml(client, path):
    r = client.get(f"{BASE}/{path}")
    assert r.status_code == 404 and r.mimetype == "text/xml"
    assert xml_errors(spec.parse_xml(r.get_data()))[0]["code"] == "404"


@pytest.mark.parametrize(
    ("path", "mimetype"),
    [("requests", "text/xml"), ("nothing/here.json", "application/json"), ("v3.xml", "text/xml")],
)
def test_other_paths_are_404_in_the_spec_shape(client, path, mimetype):
    for method in ("GET", "POST"):
        r = client.open(f"{BASE}/{path}", method=method)
        assert r.status_code == 404 and r.mimetype == mimetype
        if mimetype == "text/xml":
            assert xml_errors(spec.parse_xml(r.get_data()))[0]["code"] == "404"
        else:
            jsonschema.validate(r.get_json(), spec.ERRORS)


def test_the_extension_decides_the_format_not_the_accept_header(client):
    r = client.get(f"{BASE}/services.xml", headers={"Accept": "application/json"})
    assert r.mimetype == "text/xml"
    r = client.get(f"{BASE}/services.json", headers={"Accept": "text/xml"})
    assert r.mimetype == "application/json"


# --- service requests ------------------------------------------------------------------------


def test_a_case_as_a_service_request(client, grid_case):
    c = grid_case
    data = get_json(client, f"requests/{c.number}", schema=spec.REQUESTS)
    (item,) = data
    assert item["service_request_id"] == c.number
    assert item["status"] == "open"
    with client.application.test_request_context("/"):
        assert item["status_notes"] == cases.stage_text(c)
    assert item["service_code"] == "health"
    assert item["agency_responsible"] == c.agency.name_zh
    assert item["expected_datetime"] == c.expected_at.isoformat().replace("+00:00", "Z")
    assert c.community.name_zh in item["address"] and c.grid.name_zh in item["address"]
    assert item["lat"] == pytest.approx(39.9005, abs=1e-6)
    assert item["long"] == pytest.approx(116.4005, abs=1e-6)
    items = spec.xml_items(
        get_xml(client, f"requests/{c.number}"), "service_requests", "request", spec.REQUEST_FIELDS
    )
    assert items[0]["service_request_id"] == c.number
    assert float(items[0]["lat"]) == pytest.approx(39.9005, abs=1e-6)
    assert items[0]["zipcode"] == ""  # empty element for a value we do not have


def test_expected_datetime_falls_back_to_the_stage_due_time(client, make_case):
    c = make_case("dispatched")
    assert c.expected_at is None
    (item,) = get_json(client, f"requests/{c.number}", schema=spec.REQUESTS)
    assert item["expected_datetime"] == c.stage_due_at.isoformat().replace("+00:00", "Z")
    assert item["lat"] is None and item["long"] is None  # no grid polygon: no position


def test_a_closed_case_is_closed(client, make_case, db):
    c = make_case("dispatched")
    c.state, c.closed_at, c.close_reason = CaseState.closed, clock.now(), "duplicate"
    db.session.commit()
    (item,) = get_json(client, f"requests/{c.number}", schema=spec.REQUESTS)
    assert item["status"] == "closed"


def test_an_unknown_request_is_404(client):
    assert get_json(client, "requests/110101001001-1999-99999", expect=404)[0]["code"] == 404
    get_xml(client, "requests/nope", expect=404)


def test_only_public_data_leaves(client, grid_case, make_case, db):
    hidden = make_case("accepted")
    hidden.proposal.hidden, hidden.proposal.hidden_at = True, clock.now()
    hidden.proposal.hidden_reason = "personal-data"
    db.session.commit()
    body = client.get(f"{BASE}/requests.json").get_data(as_text=True)
    body += client.get(f"{BASE}/requests.xml").get_data(as_text=True)
    author = grid_case.proposal.author
    supporter_ids = db.session.scalars(sa.select(Support.user_id)).all()
    assert author.email not in body and author.display_name not in body
    assert author.phone not in body
    for uid in supporter_ids:
        u = db.session.get(type(author), uid)
        assert u.email not in body and u.display_name not in body
    item = next(
        i
        for i in client.get(f"{BASE}/requests.json").get_json()
        if i["service_request_id"] == hidden.number
    )
    assert item["description"] is None  # hidden by its committee: no text


# --- filters ---------------------------------------------------------------------------------


def numbers(data) -> list[str]:
    return [i["service_request_id"] for i in data]


def test_filters(client, make_case, db):
    a, b, c = make_case("dispatched"), make_case("accepted", category="environment"), make_case()
    c.state, c.closed_at, c.close_reason = CaseState.closed, clock.now(), "duplicate"
    db.session.commit()
    every = numbers(get_json(client, "requests", schema=spec.REQUESTS))
    assert {a.number, b.number, c.number} <= set(every)
    ids = numbers(get_json(client, "requests", service_request_id=f"{a.number},{c.number}"))
    assert sorted(ids) == sorted([a.number, c.number])
    env = numbers(get_json(client, "requests", service_code="environment"))
    assert b.number in env and a.number not in env
    closed = numbers(get_json(client, "requests", status="closed"))
    assert c.number in closed and a.number not in closed
    opened = numbers(get_json(client, "requests", status="open"))
    assert a.number in opened and c.number not in opened
    both = numbers(get_json(client, "requests", status="open,closed"))
    assert {a.number, c.number} <= set(both)


def test_date_range(client, make_case, db):
    old = make_case()
    old.filed_at = clock.now() - timedelta(days=200)
    new = make_case()
    db.session.commit()
    # By default the most recent 90 days.
    assert old.number not in numbers(get_json(client, "requests"))
    start = (clock.now() - timedelta(days=210)).strftime("%Y-%m-%dT%H:%M:%SZ")
    end = (clock.now() - timedelta(days=150)).strftime("%Y-%m-%dT%H:%M:%S+08:00")
    found = numbers(get_json(client, "requests", start_date=start, end_date=end))
    assert old.number in found and new.number not in found
    assert old.number in numbers(get_json(client, "requests", start_date=start))
    assert old.number in numbers(get_json(client, "requests", end_date=end))


@pytest.mark.parametrize(
    "query",
    [
        {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"},  # > 90 days
        {"start_date": "2026-03-01T00:00:00Z", "end_date": "2026-02-01T00:00:00Z"},  # reversed
        {"start_date": "yesterday"},
        {"end_date": "2026-13-45T00:00:00Z"},
        {"start_date": "2026-01-01T00:00:00"},  # no time zone
        {"start_date": "9999-12-31T23:59:59Z"},
        {"end_date": "0001-01-01T00:00:00Z"},
        {"page_size": "0"},
        {"page_size": "501"},
        {"page_size": "ten"},
        {"page_size": "-5"},
        {"page": "0"},
        {"page": "1.5"},
        {"page": "99999999999999999999"},
        {"status": "pending"},
        {"service_code": "health,no-such-code"},
    ],
)
def test_bad_queries_are_400_in_the_spec_shape(client, query):
    if query in ({"start_date": "9999-12-31T23:59:59Z"}, {"end_date": "0001-01-01T00:00:00Z"}):
        # At the calendar's edge: answered (empty), never a 500.
        r = client.get(f"{BASE}/requests.json", query_string=query)
        assert r.status_code in (200, 400)
        return
    errors = get_json(client, "requests", expect=400, **query)
    assert errors[0]["code"] == 400 and errors[0]["description"]
    assert xml_errors(get_xml(client, "requests", expect=400, **query))[0]["code"] == "400"


def test_pages(client, make_case):
    made = {make_case().number for _ in range(3)}
    first = numbers(get_json(client, "requests", page_size="2"))
    second = numbers(get_json(client, "requests", page_size="2", page="2"))
    assert len(first) == 2 and not set(first) & set(second)
    assert made <= set(first) | set(second) | set(
        numbers(get_json(client, "requests", page="2", page_size="1"))
    )


# --- keys ------------------------------------------------------------------------------------


def test_admins_issue_a_key_shown_once_stored_hashed_and_audited(client, login_as, db):
    from portal.audit.models import AuditEntry

    login_as("admin")
    r = client.form("/admin/open311-keys", {"name": "12345 热线"})
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    raw = html.split('<code class="code">')[1].split("</code>")[0]
    assert raw.startswith("o311_")
    row = db.session.scalar(sa.select(Open311Key).where(Open311Key.name == "12345 热线"))
    assert row.key_hash != raw and raw not in row.key_hash and row.prefix == raw[:10]
    assert raw not in client.get("/admin/open311-keys").get_data(as_text=True)  # shown once
    actions = db.session.scalars(
        sa.select(AuditEntry.action).where(AuditEntry.subject_type == "open311_keys")
    ).all()
    assert actions == ["open311_key.create"]
    r = client.form(f"/admin/open311-keys/{row.id}/revoke", page="/admin/open311-keys")
    assert r.status_code == 302
    db.session.refresh(row)
    assert row.revoked_at is not None
    assert post(client, **filing(raw)).status_code == 403


def test_the_key_form_keeps_errors_at_the_field(client, login_as):
    login_as("admin")
    r = client.form("/admin/open311-keys", {"name": ""})
    assert r.status_code == 400
    assert 'aria-invalid="true"' in r.get_data(as_text=True)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_missing_wrong_or_revoked_keys_are_403(client, key, db, fmt):
    form = filing(key)
    keyless = {k: v for k, v in form.items() if k != "api_key"}
    for bad in (keyless, {**form, "api_key": ""}, {**form, "api_key": "o311_not-a-key"}):
        r = post(client, fmt, **bad)
        assert r.status_code == 403
        if fmt == "json":
            jsonschema.validate(r.get_json(), spec.ERRORS)
            assert r.get_json()[0]["code"] == 403
        else:
            assert xml_errors(spec.parse_xml(r.get_data()))[0]["code"] == "403"
    row = db.session.scalar(sa.select(Open311Key))
    o311.revoke_key(user_by_email("admin@example.org"), row)
    db.session.commit()
    assert post(client, fmt, **form).status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Open311Request)) == 0


def test_posting_is_rate_limited_per_key(app, client, key, db, monkeypatch):
    monkeypatch.setitem(app.config, "OPEN311_POST_LIMIT", "2 per minute")
    assert post(client, **filing(key)).status_code == 201
    assert post(client, **filing(key)).status_code == 201
    r = post(client, **filing(key))
    assert r.status_code == 429
    assert r.get_json()[0]["code"] == 429
    _row, other = o311.create_key(user_by_email("admin@example.org"), "小程序")
    db.session.commit()
    assert post(client, **filing(other)).status_code == 201  # another key has its own budget


# --- filing ----------------------------------------------------------------------------------


def test_post_review_case_token(app, client, key, db):
    r = post(client, **filing(key))
    assert r.status_code == 201, r.get_data(as_text=True)
    jsonschema.validate(r.get_json(), spec.CREATED)
    token = r.get_json()[0]["token"]
    row = db.session.scalar(sa.select(Open311Request).where(Open311Request.token == token))
    p = db.session.get(Proposal, row.proposal_id)
    assert p.author_id == resident().id and p.status == Status.submitted
    assert p.title == "社区卫生站太远" and "四十分钟" in p.body
    with app.test_request_context("/"):
        queue = db.session.scalars(proposals.review_queue(p.community)).all()
        assert p.id in [q.id for q in queue]
    # Before a case exists, the token has no service_request_id yet.
    (t,) = get_json(client, f"tokens/{token}", schema=spec.TOKENS)
    assert t == {"service_request_id": None, "token": token}
    items = spec.xml_items(
        get_xml(client, f"tokens/{token}"), "service_requests", "request", ("token",)
    )
    assert items[0]["token"] == token
    # The committee approves: the author's own support counts, as for any proposal.
    with app.test_request_context("/"):
        proposals.review(user_by_email("committee@example.org"), p, "approve")
        assert p.support_count == 1
        p.threshold = 2
        db.session.flush()
        proposals.support(user_by_email("resident2@example.org"), p)
        db.session.commit()
    case = cases.case_for_proposal(p)
    assert case is not None
    (t,) = get_json(client, f"tokens/{token}", schema=spec.TOKENS)
    assert t["service_request_id"] == case.number
    (item,) = get_json(client, f"requests/{case.number}", schema=spec.REQUESTS)
    assert item["service_code"] == "health"


def test_post_as_xml_and_with_a_json_body(client, key):
    r = post(client, "xml", **filing(key))
    assert r.status_code == 201
    items = spec.xml_items(
        spec.parse_xml(r.get_data()), "service_requests", "request", ("token", "service_notice")
    )
    assert items[0]["token"]
    # A JSON body to the XML resource (a client mixing them up) is still understood.
    r = client.post(f"{BASE}/requests.xml", json=filing(key))
    assert r.status_code == 201 and r.mimetype == "text/xml"


def test_the_resident_is_found_by_a_normalised_phone(client, key, db):
    user = resident()
    assert user.phone  # the demo gives residents a verified number
    national = user.phone[3:]
    spaced = f"+86 {national[:3]} {national[3:7]} {national[7:]}"
    form = {k: v for k, v in filing(key).items() if k != "email"}
    r = post(client, **form, phone=spaced)
    assert r.status_code == 201, r.get_data(as_text=True)
    row = db.session.scalar(sa.select(Open311Request))
    assert db.session.get(Proposal, row.proposal_id).author_id == user.id


@pytest.mark.parametrize(
    "change",
    [
        {"service_code": "no-such-code"},
        {"service_code": ""},
        {"attribute[community_code]": ""},
        {"attribute[community_code]": "110101001002"},  # not the resident's community
        {"attribute[community_code]": "999999999999"},
        {"email": "nobody@example.org"},
        {"email": "", "phone": "12345"},
        {"email": "committee@example.org"},  # an account, but no resident of the community
        {"description": "   "},
        {"description": "x" * 6001},
        {"attribute[title]": "标" * 81},
        {"attribute[grid_code]": "110101001002001"},  # a grid of another community
    ],
)
def test_bad_filings_are_400(client, key, db, change):
    r = post(client, **{**filing(key), **change})
    assert r.status_code == 400, r.get_data(as_text=True)
    jsonschema.validate(r.get_json(), spec.ERRORS)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Open311Request)) == 0


def test_no_csrf_token_is_needed_and_no_cookie_is_read(client, key, login_as):
    login_as("admin")  # a session cookie does not make a keyless request pass
    form = {k: v for k, v in filing(key).items() if k != "api_key"}
    assert post(client, **form).status_code == 403
    assert post(client, **filing(key)).status_code == 201
