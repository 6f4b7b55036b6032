"""An independent client against a live server: the third-party ``georeport`` package (a thin
GeoReport v2 wrapper) reads services, definitions and requests in both formats, and the
``requests`` library files a request the way the spec writes it (a form-encoded POST)."""

from __future__ import annotations

import threading

import pytest
import requests
import sqlalchemy as sa
from werkzeug.serving import make_server

from portal.extensions import db as _db
from tests.conftest import real_scratch_database

georeport = pytest.importorskip("georeport")


def test_a_third_party_client_reads_and_files(tmp_path_factory):
    with real_scratch_database(tmp_path_factory, "open311") as url:
        _run(tmp_path_factory, url)


def _run(tmp_path_factory, url: str) -> None:
    from portal.cases import services as cases
    from portal.proposals import services as proposals
    from portal.proposals.models import Proposal
    from portal.transparency.open311 import services as o311
    from portal.transparency.open311.models import Open311Request
    from tests.conftest import build_app, user_by_email

    app = build_app(tmp_path_factory, url, RATELIMIT_ENABLED=False)
    with app.app_context():
        _row, key = o311.create_key(user_by_email("admin@example.org"), "12345")
        _db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    root = f"http://127.0.0.1:{server.server_port}/open311/v2"
    try:
        json_client = georeport.GeoReport(root, output_format="json")
        xml_client = georeport.GeoReport(root, output_format="xml")
        services = json_client.get_service_list()
        assert "health" in {s["service_code"] for s in services}
        xml_services = xml_client.get_service_list()
        assert {s["service_code"] for s in xml_services} == {s["service_code"] for s in services}
        definition = xml_client.get_service_definition("health")
        codes = {a["code"] for a in definition["attributes"]["attribute"]}
        assert "community_code" in codes
        assert json_client.get_service_definition("health")["service_code"] == "health"

        # Filing, as the spec writes it: form-encoded, the attribute in brackets.
        r = requests.post(
            f"{root}/requests.json",
            data={
                "api_key": key,
                "service_code": "health",
                "attribute[community_code]": "110101001001",
                "email": "resident1@example.org",
                "description": "社区卫生站太远，老人看病不便",
            },
            timeout=10,
        )
        assert r.status_code == 201, r.text
        assert r.headers["Content-Type"].startswith("application/json")
        token = r.json()[0]["token"]
        r = requests.get(f"{root}/tokens/{token}.json", timeout=10)
        assert r.json() == [{"service_request_id": None, "token": token}]
        r = requests.post(f"{root}/requests.xml", data={"service_code": "health"}, timeout=10)
        assert r.status_code == 403 and b"<errors><error><code>403</code>" in r.content

        # The committee opens it and a neighbour's support files the case.
        with app.app_context(), app.test_request_context("/"):
            row = _db.session.scalar(sa.select(Open311Request).where(Open311Request.token == token))
            p = _db.session.get(Proposal, row.proposal_id)
            proposals.review(user_by_email("committee@example.org"), p, "approve")
            p.threshold = 2
            _db.session.flush()
            proposals.support(user_by_email("resident2@example.org"), p)
            number = cases.case_for_proposal(p).number
            _db.session.commit()
        r = requests.get(f"{root}/tokens/{token}.xml", timeout=10)
        assert f"<service_request_id>{number}</service_request_id>".encode() in r.content

        found = json_client.get_service_requests(service_request_id=number)
        assert [f["service_request_id"] for f in found] == [number]
        one = json_client.get_service_request(number)
        assert one["status"] == "open" and one["service_code"] == "health"
        xml_one = xml_client.get_service_request(number)
        assert xml_one["service_request_id"] == number and xml_one["status"] == "open"
        listed = json_client.get_service_requests(service_code="health", status="open")
        assert number in {f["service_request_id"] for f in listed}
        with pytest.raises(requests.HTTPError):
            json_client.get_service_definition("no-such-service")
    finally:
        server.shutdown()
        thread.join(timeout=5)
        with app.app_context():
            _db.engine.dispose()
