"""Open311's rules: API keys (issued, revoked, audited), filing a proposal for a resident named
by an integration, and what a service and a service request show (public data only).

Filing goes through the proposals' own ``create(..., submit=True)``: the same checks as a
resident writing it (confirmed resident of the community, may take part, category active,
field lengths), the review queue, and the author's automatic support when the window opens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from flask_login import AnonymousUserMixin
from sqlalchemy import func, select

from portal.accounts import phones
from portal.accounts.models import User
from portal.accounts.services import find_by_email
from portal.audit.services import record
from portal.cases import services as cases
from portal.cases.models import Case, CaseState
from portal.core import clock
from portal.core.errors import DomainError
from portal.core.i18n import gettext as _
from portal.core.i18n import local
from portal.extensions import db
from portal.places.coords import centroid
from portal.places.models import Community, Grid
from portal.proposals import services as proposals
from portal.proposals.models import Category, Proposal
from portal.transparency.open311.models import Open311Key, Open311Request

KEY_PREFIX = "o311_"


class Open311Error(DomainError):
    """A refusal in the spec's terms: the HTTP status doubles as the error's ``code``."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(str(status), description, status=status)


# --- keys ------------------------------------------------------------------------------------


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create_key(actor: User, name: str) -> tuple[Open311Key, str]:
    """A new key for the integration ``name``: the row, and the key itself, to be shown once."""
    raw = KEY_PREFIX + secrets.token_urlsafe(32)
    key = Open311Key(
        name=name.strip(), key_hash=_hash(raw), prefix=raw[:10], created_by_id=actor.id
    )
    db.session.add(key)
    db.session.flush()
    record(actor, "open311_key.create", key, integration=key.name, prefix=key.prefix)
    return key, raw


def revoke_key(actor: User, key: Open311Key) -> None:
    if key.revoked_at is not None:
        return
    key.revoked_at = clock.now()
    record(actor, "open311_key.revoke", key, integration=key.name, prefix=key.prefix)


def keys() -> list[Open311Key]:
    return list(db.session.scalars(select(Open311Key).order_by(Open311Key.id.desc())))


def key_hash(raw: str | None) -> str | None:
    return _hash(raw) if raw else None


def active_key(raw: str | None) -> Open311Key | None:
    if not raw:
        return None
    key = db.session.scalar(select(Open311Key).where(Open311Key.key_hash == _hash(raw)))
    return key if key is not None and key.revoked_at is None else None


# --- services (categories) -------------------------------------------------------------------


def categories() -> list[Category]:
    return list(
        db.session.scalars(
            select(Category).where(Category.active).order_by(Category.position, Category.id)
        )
    )


def category(code: str) -> Category | None:
    return db.session.scalar(select(Category).where(Category.code == code, Category.active))


# Before any category was saved through the admin pages: the day Open311 was added.
FIRST_CHANGESET = datetime(2026, 12, 7, tzinfo=UTC)


def changeset() -> datetime:
    """When the services last changed (discovery's ``changeset``): the last category saved."""
    from portal.audit.models import AuditEntry

    last = db.session.scalar(
        select(func.max(AuditEntry.created_at)).where(AuditEntry.action.startswith("category."))
    )
    return max(last, FIRST_CHANGESET) if last is not None else FIRST_CHANGESET


def service(c: Category, locale: str) -> dict:
    names = dict.fromkeys([c.name_zh, c.name_en, c.code])  # unique, in order
    return {
        "service_code": c.code,
        "service_name": c.name(locale),
        "description": _("Proposals and grid cases about: %(name)s", name=c.name(locale)),
        "metadata": True,  # the definition names the community a request belongs to
        "type": "batch",  # a request becomes a case only after review and enough support
        "keywords": ",".join(n for n in names if n),
        "group": _("Public interest"),
    }


def definition(c: Category) -> dict:
    """The attributes ``POST requests`` takes as ``attribute[code]``."""
    attrs = [
        ("community_code", True, _("The 12-digit code of the resident's community.")),
        ("title", False, _("A title of up to 80 characters (else the description's start).")),
        ("grid_code", False, _("The 15-digit code of the unit grid concerned, if known.")),
    ]
    return {
        "service_code": c.code,
        "attributes": [
            {
                "variable": True,
                "code": code,
                "datatype": "string",
                "required": required,
                "datatype_description": description,
                "order": order,
                "description": description,
            }
            for order, (code, required, description) in enumerate(attrs, start=1)
        ],
    }


# --- service requests (cases) ----------------------------------------------------------------

_ANONYMOUS = AnonymousUserMixin()


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat().replace("+00:00", "Z") if dt is not None else None


def grid_position(grid: Grid | None) -> tuple[float | None, float | None]:
    """(lat, long) in WGS84: the centroid of the grid's polygon, or nothing."""
    import json

    if grid is None or not grid.geometry:
        return None, None
    try:
        point = centroid(json.loads(grid.geometry))
    except (ValueError, TypeError, IndexError):
        return None, None
    if point is None:
        return None, None
    return round(point[1], 7), round(point[0], 7)


def service_notice(c: Case) -> str:
    """What is expected next, in words: the limit that runs now, or the outcome."""
    if c.state == CaseState.closed:
        return cases.outcome(c) or ""
    dl = cases.deadline(c, count=False)
    if dl is None:
        return cases.stage_text(c)
    when = local(dl.due_at).strftime("%Y-%m-%d %H:%M")  # type: ignore[union-attr]
    notice = f"{dl.label}: {when}"
    return f"{notice} ({_('Overdue')})" if dl.overdue else notice


def service_request(c: Case, locale: str) -> dict:
    """A case as a GeoReport service request: public fields only (no author, no supporter)."""
    p = c.proposal
    readable = proposals.can_read(_ANONYMOUS, p)
    lat, lon = grid_position(c.grid)
    place = [c.community.name(locale)]
    if c.grid is not None:
        place.append(c.grid.name(locale))
    return {
        "service_request_id": c.number,
        "status": "closed" if c.state == CaseState.closed else "open",
        "status_notes": cases.stage_text(c),
        "service_name": c.category.name(locale),
        "service_code": c.category.code,
        # A proposal hidden by its committee keeps its text from the public here too.
        "description": f"{p.title}\n\n{p.summary}" if readable else None,
        "agency_responsible": c.agency.name(locale),
        "service_notice": service_notice(c),
        "requested_datetime": _iso(c.filed_at),
        "updated_datetime": _iso(c.updated_at),
        "expected_datetime": _iso(c.expected_at or c.stage_due_at),
        "address": " ".join(place),
        "address_id": c.grid.code if c.grid is not None else None,
        "zipcode": None,
        "lat": lat,
        "long": lon,
        "media_url": None,
    }


@dataclass(frozen=True)
class RequestQuery:
    ids: list[str] | None
    service_codes: list[str] | None
    statuses: list[str] | None
    start: datetime | None
    end: datetime | None
    page: int
    page_size: int


def find_requests(q: RequestQuery) -> list[Case]:
    from sqlalchemy.orm import selectinload

    stmt = select(Case).options(selectinload(Case.grid))
    if q.ids is not None:  # the spec: service_request_id overrides every other filter
        stmt = stmt.where(Case.number.in_(q.ids))
    else:
        if q.service_codes:
            stmt = stmt.join(Category, Category.id == Case.category_id).where(
                Category.code.in_(q.service_codes)
            )
        if q.statuses and len(set(q.statuses)) == 1:
            closed = Case.state == CaseState.closed
            stmt = stmt.where(closed if q.statuses[0] == "closed" else ~closed)
        if q.start is not None:
            stmt = stmt.where(Case.filed_at >= q.start)
        if q.end is not None:
            stmt = stmt.where(Case.filed_at <= q.end)
    stmt = (
        stmt.order_by(Case.filed_at.desc(), Case.id.desc())
        .limit(q.page_size)
        .offset((q.page - 1) * q.page_size)
    )
    return list(db.session.scalars(stmt).unique())


def case_by_number(number: str) -> Case | None:
    return db.session.scalar(select(Case).where(Case.number == number))


def known_codes(codes: list[str]) -> set[str]:
    return set(db.session.scalars(select(Category.code).where(Category.code.in_(codes))))


# --- filing a request ------------------------------------------------------------------------


def _resident(email: str | None, phone: str | None) -> User | None:
    if phone:
        number = phones.normalize_phone(phone)
        user = phones.find_by_phone(number) if number else None
        if user is not None:
            return user
    if email and "@" in email:
        return find_by_email(email)
    return None


def _title(description: str) -> str:
    first = description.strip().splitlines()[0].strip() if description.strip() else ""
    return first if len(first) <= 80 else first[:79] + "…"


def _summary(description: str) -> str:
    text = " ".join(description.split())
    return text if len(text) <= 300 else text[:299] + "…"


def file_request(
    key: Open311Key,
    *,
    service_code: str,
    community_code: str,
    email: str | None,
    phone: str | None,
    description: str,
    title: str | None = None,
    grid_code: str | None = None,
    address: str | None = None,
) -> Open311Request:
    """A proposal by the confirmed resident named by ``email`` or ``phone``, submitted to the
    community's review queue; the token to poll for its case."""
    cat = category(service_code)
    if cat is None:
        raise Open311Error(400, _("Unknown service_code %(code)s.", code=service_code))
    community = db.session.scalar(select(Community).where(Community.code == community_code))
    if community is None:
        raise Open311Error(400, _("Unknown community_code %(code)s.", code=community_code))
    author = _resident(email, phone)
    if author is None or author.community_id != community.id:
        raise Open311Error(
            400,
            _(
                "No confirmed resident of community %(code)s has this email or phone.",
                code=community_code,
            ),
        )
    description = (description or "").strip()
    if not description:
        raise Open311Error(400, _("Describe the issue in description."))
    grid = None
    if grid_code:
        grid = db.session.scalar(
            select(Grid).where(Grid.code == grid_code, Grid.community_id == community.id)
        )
        if grid is None:
            raise Open311Error(
                400, _("Unknown grid_code %(code)s in this community.", code=grid_code)
            )
    title = (title or "").strip() or _title(description)
    checks = (
        (title, 80, "title"),
        (description, 6000, "description"),
        (address or "", 200, "address_string"),
    )
    for value, limit, name in checks:
        if len(value) > limit:
            raise Open311Error(
                400, _("%(name)s has more than %(n)d characters.", name=name, n=limit)
            )
    try:
        p = proposals.create(
            author,
            community,
            title=title,
            summary=_summary(description),
            body=description,
            category=cat,
            grid=grid,
            location_note=(address or "").strip(),
            submit=True,
        )
    except DomainError as err:
        raise Open311Error(400, err.message) from err
    key.last_used_at = clock.now()
    row = Open311Request(token=secrets.token_hex(16), key_id=key.id, proposal_id=p.id)
    db.session.add(row)
    db.session.flush()
    return row


def request_by_token(token: str) -> Open311Request | None:
    return db.session.scalar(select(Open311Request).where(Open311Request.token == token))


def case_of(row: Open311Request) -> Case | None:
    p = db.session.get(Proposal, row.proposal_id)
    return cases.case_for_proposal(p) if p is not None else None


def submitted_notice() -> str:
    return _(
        "Received as a proposal for the community committee's review (within %(days)d days). "
        "Once it gathers enough support from residents it becomes a grid case; poll the token "
        "for its service_request_id.",
        days=proposals.REVIEW_DAYS,
    )
