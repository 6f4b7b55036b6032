"""Open data routes: the page, the four exports (streamed), the Atom feeds."""

from __future__ import annotations

from flask import Response, abort, jsonify, render_template, request, stream_with_context
from sqlalchemy import select

from portal.core.guards import public
from portal.core.http_cache import PUBLIC_CACHE_CONTROL, VARY, anonymous_request
from portal.extensions import db
from portal.opendata import bp, feeds
from portal.opendata.exports import CASE_COLUMNS, PROPOSAL_COLUMNS, case_rows, proposal_rows
from portal.opendata.filters import KNOWN, BadFilter, parse
from portal.opendata.formats import csv_chunks, json_chunks, licence
from portal.places.services import community_by_code
from portal.roles.models import Agency

DATASETS = {
    "proposals": (PROPOSAL_COLUMNS, proposal_rows),
    "cases": (CASE_COLUMNS, case_rows),
}
MIMETYPES = {"csv": "text/csv", "json": "application/json"}
ATOM = "application/atom+xml"


@bp.get("/open-data")
@public
def index():
    return render_template(
        "opendata/index.html",
        proposal_columns=PROPOSAL_COLUMNS,
        case_columns=CASE_COLUMNS,
        license=licence(),
        filters=KNOWN,
    )


def _bad(err: BadFilter, fmt: str):
    if fmt == "json":
        body = {"code": err.code, "message": err.message, "fields": err.fields}
        return jsonify({"error": body}), 400
    return Response(err.message + "\n", status=400, mimetype="text/plain")


def _export(dataset: str, fmt: str):
    columns, rows = DATASETS[dataset]
    try:
        f = parse(request.args)
    except BadFilter as err:
        return _bad(err, fmt)
    write = csv_chunks if fmt == "csv" else json_chunks
    resp = Response(
        stream_with_context(write(columns, rows(f))),
        mimetype=MIMETYPES[fmt],
        headers={
            "Content-Disposition": f'inline; filename="{dataset}.{fmt}"',
            # Passed on as written: nginx neither buffers nor micro-caches a file this long.
            "X-Accel-Buffering": "no",
        },
    )
    # As core.http_cache keeps public pages (it leaves streamed answers alone: no ETag without
    # the whole body); a signed-in answer gets core.security's no-store after this.
    for name in VARY:
        resp.vary.add(name)
    resp.headers["Cache-Control"] = (
        PUBLIC_CACHE_CONTROL if anonymous_request() else "private, no-cache"
    )
    return resp


@bp.get("/open-data/proposals.csv")
@public
def proposals_csv():
    return _export("proposals", "csv")


@bp.get("/open-data/proposals.json")
@public
def proposals_json():
    return _export("proposals", "json")


@bp.get("/open-data/cases.csv")
@public
def cases_csv():
    return _export("cases", "csv")


@bp.get("/open-data/cases.json")
@public
def cases_json():
    return _export("cases", "json")


# --- feeds -----------------------------------------------------------------------------------


def _atom(body: bytes) -> Response:
    return Response(body, mimetype=ATOM)


def _community(code: str):
    community = community_by_code(code)
    if community is None:
        abort(404)
    return community


@bp.get("/feeds/proposals.atom")
@public
def proposals_feed():
    return _atom(feeds.proposals_feed(None))


@bp.get("/feeds/communities/<code>/proposals.atom")
@public
def community_proposals_feed(code: str):
    return _atom(feeds.proposals_feed(_community(code)))


@bp.get("/feeds/communities/<code>/cases.atom")
@public
def community_cases_feed(code: str):
    return _atom(feeds.case_events_feed(community=_community(code)))


@bp.get("/feeds/agencies/<code>/cases.atom")
@public
def agency_cases_feed(code: str):
    agency = db.session.scalar(select(Agency).where(Agency.code == code[:60]))
    if agency is None:
        abort(404)
    return _atom(feeds.case_events_feed(agency=agency))


@bp.get("/feeds/communities/<code>/meetings.atom")
@public
def community_meetings_feed(code: str):
    return _atom(feeds.meetings_feed(_community(code)))
