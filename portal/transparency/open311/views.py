"""GeoReport v2 routes. Every answer, error or not, is in the format the path's extension asks
for (``.json`` or ``.xml``; an unknown one is answered in XML, the spec's required format)."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app, request
from flask_limiter.util import get_remote_address
from werkzeug.exceptions import TooManyRequests

from portal.core import clock
from portal.core.guards import public
from portal.core.i18n import current_locale
from portal.core.i18n import gettext as _
from portal.core.limits import configured
from portal.core.urls import external_url
from portal.extensions import limiter
from portal.transparency.open311 import bp
from portal.transparency.open311 import services as o311
from portal.transparency.open311.formats import FORMATS, errors, respond

SPEC = "http://wiki.open311.org/GeoReport_v2"
MAX_RANGE = timedelta(days=90)
PAGE_SIZE, MAX_PAGE_SIZE = 50, 500


class _Refused(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status, self.description = status, description


def _format(fmt: str) -> str:
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise _Refused(404, _("Unknown format: use .json or .xml."))
    return fmt


def _fmt_of_path() -> str:
    fmt = ((request.view_args or {}).get("fmt") or "").lower()
    return fmt if fmt in FORMATS else "xml"


@bp.errorhandler(_Refused)
def _refused(err: _Refused):
    return errors(_fmt_of_path(), err.status, err.description)


@bp.errorhandler(o311.Open311Error)
def _domain_refusal(err: o311.Open311Error):
    return errors(_fmt_of_path(), err.status, err.message)


@bp.errorhandler(TooManyRequests)
def _too_many(err: TooManyRequests):
    response = errors(_fmt_of_path(), 429, _("Too many requests with this api_key; retry later."))
    retry = getattr(err, "retry_after", None)
    if retry:
        response.headers["Retry-After"] = str(retry)
    return response


@bp.route("/<path:rest>", methods=["GET", "POST"])
@public
def unknown(rest: str):
    """Any other path under the endpoint (``requests`` without a format, a typo): the spec's
    404, in JSON when the path ends in .json."""
    fmt = "json" if rest.lower().endswith(".json") else "xml"
    return errors(fmt, 404, _("No such resource: see discovery.json for the endpoint's resources."))


# --- discovery and services ------------------------------------------------------------------


@bp.get("/discovery.<fmt>")
@public
def discovery(fmt: str):
    fmt = _format(fmt)
    base = external_url("open311.services", fmt="xml").rsplit("/", 1)[0]
    changeset = _iso(o311.changeset())
    doc = {
        "changeset": changeset,
        "contact": current_app.config.get("OPEN311_CONTACT") or external_url("main.home"),
        "key_service": _(
            "API keys for filing requests are issued by the platform's administrators."
        ),
        "endpoints": [
            {
                "specification": SPEC,
                "url": base,
                "changeset": changeset,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return respond(fmt, "discovery", None, doc)


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


@bp.get("/services.<fmt>")
@public
def services(fmt: str):
    fmt = _format(fmt)
    loc = current_locale()
    return respond(fmt, "services", "service", [o311.service(c, loc) for c in o311.categories()])


@bp.get("/services/<code>.<fmt>")
@public
def service_definition(code: str, fmt: str):
    fmt = _format(fmt)
    category = o311.category(code)
    if category is None:
        raise _Refused(404, _("Unknown service_code %(code)s.", code=code))
    return respond(fmt, "service_definition", None, o311.definition(category))


# --- service requests ------------------------------------------------------------------------


def _datetime(name: str) -> datetime | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise _Refused(
            400,
            _(
                "%(name)s must be a W3C date-time with a time zone, e.g. 2026-01-01T00:00:00Z.",
                name=name,
            ),
        )
    return value


def _positive(name: str, default: int, most: int | None = None) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    value = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else 0
    if value < 1 or (most is not None and value > most):
        if most is None:
            raise _Refused(400, _("%(name)s must be a whole number from 1.", name=name))
        raise _Refused(
            400, _("%(name)s must be a whole number from 1 to %(most)d.", name=name, most=most)
        )
    return value


def _list(name: str) -> list[str] | None:
    raw = request.args.get(name)
    if raw is None or not raw.strip():
        return None
    return [v.strip() for v in raw.split(",") if v.strip()][:100]


def _query() -> o311.RequestQuery:
    ids = _list("service_request_id")
    codes = _list("service_code")
    if codes:
        unknown = sorted(set(codes) - o311.known_codes(codes))
        if unknown:
            raise _Refused(400, _("Unknown service_code %(code)s.", code=",".join(unknown)))
    statuses = _list("status")
    if statuses and set(statuses) - {"open", "closed"}:
        raise _Refused(400, _("status must be open, closed or both, comma separated."))
    start, end = _datetime("start_date"), _datetime("end_date")
    if start is not None and end is not None:
        if end < start:
            raise _Refused(400, _("end_date is before start_date."))
        if end - start > MAX_RANGE:
            raise _Refused(400, _("start_date and end_date may be at most 90 days apart."))
    elif start is not None:
        end = (
            start + MAX_RANGE
            if start < datetime.max.replace(tzinfo=start.tzinfo) - MAX_RANGE
            else None
        )
    elif end is not None:
        start = (
            end - MAX_RANGE if end > datetime.min.replace(tzinfo=end.tzinfo) + MAX_RANGE else None
        )
    else:  # the spec's default: the most recent 90 days
        end = clock.now()
        start = end - MAX_RANGE
    page = _positive("page", 1)
    size = _positive("page_size", PAGE_SIZE, MAX_PAGE_SIZE)
    if page > 100_000:
        raise _Refused(400, _("page is too large."))
    return o311.RequestQuery(ids, codes, statuses, start, end, page, size)


@bp.get("/requests.<fmt>")
@public
def requests_list(fmt: str):
    fmt = _format(fmt)
    loc = current_locale()
    rows = o311.find_requests(_query())
    data = [o311.service_request(c, loc) for c in rows]
    return respond(fmt, "service_requests", "request", data)


@bp.get("/requests/<number>.<fmt>")
@public
def request_detail(number: str, fmt: str):
    fmt = _format(fmt)
    case = o311.case_by_number(number)
    if case is None:
        raise _Refused(404, _("No service request has this id."))
    return respond(
        fmt, "service_requests", "request", [o311.service_request(case, current_locale())]
    )


@bp.get("/tokens/<token>.<fmt>")
@public
def token(token: str, fmt: str):
    fmt = _format(fmt)
    row = o311.request_by_token(token)
    if row is None:
        raise _Refused(404, _("No request has this token."))
    case = o311.case_of(row)
    data = [{"service_request_id": case.number if case else None, "token": row.token}]
    return respond(fmt, "service_requests", "request", data)


# --- filing ----------------------------------------------------------------------------------


def _params() -> dict[str, str]:
    """The form fields (the spec's encoding), or a JSON object's string members."""
    values = {k: v for k, v in request.form.items() if isinstance(v, str)}
    if request.is_json:
        body = request.get_json(silent=True)
        if isinstance(body, dict):
            values.update({k: v for k, v in body.items() if isinstance(v, str)})
    return values


def _limit_key() -> str:
    """Per key: a hotline behind one address shares nothing with another integration."""
    raw = request.form.get("api_key")
    digest = o311.key_hash(raw) if isinstance(raw, str) and raw else None
    return f"open311:{digest[:24]}" if digest else f"open311-ip:{get_remote_address()}"


@bp.post("/requests.<fmt>")
@public  # authenticated by its api_key, checked first in the view
@limiter.limit(configured("OPEN311_POST_LIMIT"), key_func=_limit_key)
def create_request(fmt: str):
    fmt = _format(fmt)
    params = _params()
    key = o311.active_key(params.get("api_key"))
    if key is None:
        raise _Refused(403, _("Invalid or revoked api_key: ask the administrators for a key."))
    code = params.get("service_code", "").strip()
    if not code:
        raise _Refused(400, _("service_code is required."))
    community_code = params.get("attribute[community_code]", "").strip()
    if not community_code:
        raise _Refused(400, _("attribute[community_code] is required."))
    if not (params.get("email") or params.get("phone")):
        raise _Refused(400, _("email or phone of the resident is required."))
    row = o311.file_request(
        key,
        service_code=code,
        community_code=community_code,
        email=params.get("email"),
        phone=params.get("phone"),
        description=params.get("description", ""),
        title=params.get("attribute[title]"),
        grid_code=params.get("attribute[grid_code]", "").strip() or None,
        address=params.get("address_string"),
    )
    data = [{"token": row.token, "service_notice": o311.submitted_notice(), "account_id": None}]
    return respond(fmt, "service_requests", "request", data, 201)
