"""The rows of the exports: public proposals and cases, each with every lifecycle timestamp.

What is public is what the public pages show: proposals in the public statuses and not hidden
(``proposals.listing``), with their author by display name as the proposal page names them;
every case (the public case list shows them all), with its proposal's title only when that
proposal is not hidden. No email, no phone number, no supporter: supports leave the database
as counts only.

Rows are read in batches by keyset on the id (``WHERE id > last ORDER BY id LIMIT BATCH``), one
query per batch plus one for the batch's case history, and yielded as they come: an export of
a million rows holds one batch in memory, and a slow reader holds no lock.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Row, case, false, func, select
from sqlalchemy.orm import aliased

from portal.accounts.models import User
from portal.cases.models import Case, CaseEvent
from portal.core.api import iso
from portal.core.i18n import lazy_gettext as _l
from portal.extensions import db
from portal.opendata.filters import Filters
from portal.places.models import Community, District, Street
from portal.proposals.listing import PUBLIC_STATUSES
from portal.proposals.models import Category, Proposal
from portal.proposals.services import status_clause
from portal.roles.models import Agency

BATCH = 1000


@dataclass(frozen=True)
class Column:
    name: str
    description: object  # a lazy string: the README and the page say it in either language


_PLACE = (
    Column("community_code", _l("Community code (12 digits, national scheme).")),
    Column("community_name_zh", _l("Community name in Chinese.")),
    Column("community_name_en", _l("Community name in English (may be empty).")),
    Column("district_code", _l("District code (6 digits).")),
    Column("district_name_zh", _l("District name in Chinese.")),
    Column("district_name_en", _l("District name in English (may be empty).")),
    Column("category_code", _l("Category code.")),
    Column("category_name_zh", _l("Category name in Chinese.")),
    Column("category_name_en", _l("Category name in English.")),
)

PROPOSAL_COLUMNS = (
    Column("id", _l("Proposal number, as in its address /proposals/<id>.")),
    Column("title", _l("Title, as written by its author.")),
    Column("summary", _l("Summary, as written by its author.")),
    Column(
        "status",
        _l(
            "Status: open, qualified (reached its threshold and became a case), expired,"
            " rejected or withdrawn."
        ),
    ),
    Column("author", _l("The author's display name, as the proposal page shows it.")),
    *_PLACE,
    Column("support_count", _l("Number of supports (who supported is never published).")),
    Column("threshold", _l("Supports needed, fixed when the proposal opened.")),
    Column("reject_reason", _l("Reason code of a rejection.")),
    Column("duplicate_of", _l("The original proposal's number, for a duplicate.")),
    Column("case_number", _l("The grid case it became, if any.")),
    Column("created_at", _l("Written (first saved as a draft).")),
    Column("submitted_at", _l("Sent to the committee for review.")),
    Column("review_due_at", _l("The committee's review deadline.")),
    Column("reviewed_at", _l("Reviewed by the committee.")),
    Column("opened_at", _l("Opened for support.")),
    Column("closes_at", _l("End of the support window.")),
    Column("qualified_at", _l("Reached its threshold.")),
    Column("expired_at", _l("Support window ended below the threshold.")),
    Column("rejected_at", _l("Rejected by the committee.")),
    Column("withdrawn_at", _l("Withdrawn by its author.")),
)

CASE_COLUMNS = (
    Column("number", _l("Case number.")),
    Column("proposal_id", _l("The proposal the case was filed from.")),
    Column("title", _l("The proposal's title; empty while the proposal is hidden.")),
    Column(
        "state",
        _l("State: dispatched, accepted, returned, in_progress, verifying or closed."),
    ),
    Column(
        "close_reason",
        _l("How it was closed: resolved, duplicate, not-responsible or no-further-action."),
    ),
    *_PLACE,
    Column("agency_code", _l("The agency holding the case now.")),
    Column("agency_name_zh", _l("Its name in Chinese.")),
    Column("agency_name_en", _l("Its name in English (may be empty).")),
    Column("filed_at", _l("Filed.")),
    Column("dispatched_at", _l("First dispatched to an agency: the clock starts.")),
    Column("response_due_at", _l("Due time to accept or return after the first dispatch.")),
    Column("first_handling_due_at", _l("Handling deadline set at the first dispatch.")),
    Column("last_dispatched_at", _l("Dispatched last (differs after a re-route).")),
    Column("first_accepted_at", _l("First accepted by an agency.")),
    Column("accepted_at", _l("Accepted by the agency holding it now.")),
    Column("return_count", _l("Times an agency returned it.")),
    Column("reroute_count", _l("Times the supervisor re-routed it.")),
    Column("expected_at", _l("The agency's planned date.")),
    Column("handling_due_at", _l("Current handling deadline, after extensions and reopening.")),
    Column("stage_due_at", _l("Due time of the current stage; empty once closed or returned.")),
    Column("extension", _l("Extension: none, requested, approved or denied.")),
    Column("extension_until", _l("The extended deadline requested or approved.")),
    Column("first_resolved_at", _l("First reported handled.")),
    Column("resolved_at", _l("Last reported handled.")),
    Column("verified_at", _l("Checked on site.")),
    Column("verify_passed", _l("Whether the site check passed (true/false).")),
    Column("reopen_count", _l("Times reopened for rework.")),
    Column("closed_at", _l("Closed.")),
    Column("updated_at", _l("Last changed.")),
)


def _places(stmt, category_id, community_id):
    return (
        stmt.join(Community, Community.id == community_id)
        .join(Street)
        .join(District)
        .join(Category, Category.id == category_id)
    )


def _scoped(stmt, f: Filters, community_id, stamp):
    if f.community_id is not None:
        stmt = stmt.where(community_id == f.community_id)
    if f.district_id is not None:
        stmt = stmt.where(Street.district_id == f.district_id)
    if f.start is not None:
        stmt = stmt.where(stamp >= f.start)
    if f.end is not None:
        stmt = stmt.where(stamp < f.end)
    return stmt


_PLACE_COLUMNS = (
    Community.code,
    Community.name_zh,
    Community.name_en,
    District.code,
    District.name_zh,
    District.name_en,
    Category.code,
    Category.name_zh,
    Category.name_en,
)


def _value(v):
    if isinstance(v, datetime):
        return iso(v)
    return v.value if hasattr(v, "value") else v


def _batches(stmt, key) -> Iterator[Sequence[Row]]:
    """The rows of ``stmt`` by ``key`` ascending, BATCH at a time (keyset, no OFFSET)."""
    last = 0
    while True:
        rows = db.session.execute(stmt.where(key > last).order_by(key).limit(BATCH)).all()
        if not rows:
            return
        yield rows
        if len(rows) < BATCH:
            return
        last = rows[-1][0]


def proposal_rows(f: Filters) -> Iterator[tuple]:
    """Public proposals (PROPOSAL_COLUMNS order), oldest first; filtered on ``created_at``."""
    expired = status_clause("expired")  # an open one whose window closed is expired already
    status = case((expired, "expired"), else_=Proposal.status)
    author = aliased(User)
    stmt = select(
        Proposal.id,
        Proposal.title,
        Proposal.summary,
        status,
        author.display_name,
        *_PLACE_COLUMNS,
        Proposal.support_count,
        Proposal.threshold,
        Proposal.reject_reason,
        Proposal.duplicate_of_id,
        Case.number,
        Proposal.created_at,
        Proposal.submitted_at,
        Proposal.review_due_at,
        Proposal.reviewed_at,
        Proposal.opened_at,
        Proposal.closes_at,
        Proposal.threshold_reached_at,
        Proposal.expired_at,
        Proposal.rejected_at,
        Proposal.withdrawn_at,
    )
    stmt = _places(stmt.select_from(Proposal), Proposal.category_id, Proposal.community_id)
    stmt = stmt.join(author, author.id == Proposal.author_id).outerjoin(
        Case, Case.proposal_id == Proposal.id
    )
    stmt = stmt.where(Proposal.status.in_(PUBLIC_STATUSES), Proposal.hidden.is_(False))
    stmt = _scoped(stmt, f, Proposal.community_id, Proposal.created_at)
    for rows in _batches(stmt, Proposal.id):
        for row in rows:
            yield tuple(_value(v) for v in row)


def _history(case_ids: list[int]) -> dict[int, tuple]:
    """What the timeline of each case says beyond the case row: the first dispatch and its due
    times, the first acceptance and resolution, returns and re-routes counted."""

    def first(action: str, column):
        return func.min(case((CaseEvent.action == action, column)))

    def count(action: str):
        return func.sum(case((CaseEvent.action == action, 1), else_=0))

    rows = db.session.execute(
        select(
            CaseEvent.case_id,
            first("dispatch", CaseEvent.created_at),
            first("dispatch", CaseEvent.stage_due_at),
            first("dispatch", CaseEvent.handling_due_at),
            first("accept", CaseEvent.created_at),
            count("return"),
            count("reroute"),
            first("resolve", CaseEvent.created_at),
        )
        .where(CaseEvent.case_id.in_(case_ids))
        .group_by(CaseEvent.case_id)
    ).all()
    return {r[0]: tuple(r[1:]) for r in rows}


def case_rows(f: Filters) -> Iterator[tuple]:
    """Every case (CASE_COLUMNS order), oldest first; filtered on ``filed_at``."""
    title = case((Proposal.hidden == false(), Proposal.title), else_=None)
    stmt = select(
        Case.id,
        Case.number,
        Case.proposal_id,
        title,
        Case.state,
        Case.close_reason,
        *_PLACE_COLUMNS,
        Agency.code,
        Agency.name_zh,
        Agency.name_en,
        Case.filed_at,
        Case.dispatched_at,
        Case.accepted_at,
        Case.expected_at,
        Case.handling_due_at,
        Case.stage_due_at,
        Case.extension,
        Case.extension_until,
        Case.resolved_at,
        Case.verified_at,
        Case.verify_passed,
        Case.reopen_count,
        Case.closed_at,
        Case.updated_at,
    )
    stmt = _places(stmt.select_from(Case), Case.category_id, Case.community_id)
    stmt = stmt.join(Agency, Agency.id == Case.agency_id).join(
        Proposal, Proposal.id == Case.proposal_id
    )
    stmt = _scoped(stmt, f, Case.community_id, Case.filed_at)
    for rows in _batches(stmt, Case.id):
        history = _history([r[0] for r in rows])
        for r in rows:
            (
                dispatched, response_due, first_handling_due, first_accepted, returns, reroutes,
                first_resolved,
            ) = history.get(r[0]) or (None, None, None, None, 0, 0, None)  # fmt: skip
            (
                _id, number, proposal_id, title_, state, close_reason,
                *place,
                agency_code, agency_zh, agency_en,
                filed, last_dispatched, accepted, expected, handling_due, stage_due,
                extension, extension_until, resolved, verified, verify_passed, reopens,
                closed, updated,
            ) = r  # fmt: skip
            yield tuple(
                _value(v)
                for v in (
                    number, proposal_id, title_, state, close_reason, *place,
                    agency_code, agency_zh, agency_en,
                    filed, dispatched or last_dispatched, response_due, first_handling_due,
                    last_dispatched, first_accepted, accepted, returns or 0, reroutes or 0,
                    expected, handling_due, stage_due, extension, extension_until,
                    first_resolved, resolved, verified, verify_passed, reopens, closed, updated,
                )
            )  # fmt: skip
