"""The moderation queue, the public moderation log, the workspace's figures and reason labels."""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import timedelta
from functools import cache

from sqlalchemy import Select, bindparam, func, select

from portal.core import clock
from portal.core.i18n import gettext as _
from portal.deliberation import targets
from portal.deliberation.models import ModerationAction, Report
from portal.extensions import db
from portal.places.models import Community
from portal.proposals import services as proposals
from portal.proposals.models import Proposal

# --- queues, logs, figures -------------------------------------------------------------------


QUEUE_PAGE = 25


def queue_cursor(item: dict) -> list:
    """Where the page after ``item`` starts: its first report's time, kind and id."""
    return [item["first_report_at"].isoformat(), item["target_type"], item["target_id"]]


@cache
def _queue_statement(after: bool, limit: int) -> Select:
    """Open reports grouped by target, oldest first; with ``after``, those after the bound
    (first report, kind, id). Built once per shape, the community and bounds bound."""
    first = func.min(Report.created_at)
    stmt = (
        select(Report.target_type, Report.target_id, first, func.count())
        .where(
            Report.community_id == bindparam("community_id", type_=Report.community_id.type),
            Report.resolved_at.is_(None),
        )
        .group_by(Report.target_type, Report.target_id)
    )
    if after:
        when = bindparam("when", type_=Report.created_at.type)
        kind = bindparam("kind", type_=Report.target_type.type)
        ident = bindparam("ident", type_=Report.target_id.type)
        stmt = stmt.having(
            (first > when)
            | (
                (first == when)
                & (
                    (Report.target_type > kind)
                    | ((Report.target_type == kind) & (Report.target_id > ident))
                )
            )
        )
    return stmt.order_by(first, Report.target_type, Report.target_id).limit(limit)


def queue(community: Community, limit: int = QUEUE_PAGE, after: tuple | None = None) -> list[dict]:
    """Open reports grouped by target, oldest first, with waiting time; keyset-paginated on
    (first report, kind, id) after ``after``. Each item holds its target (an object or a row,
    as its kind loads it) and its author's public name."""
    params: dict = {"community_id": community.id}
    if after is not None:
        params["when"], params["kind"], params["ident"] = after
    # Rows, run on the session's connection (flushed first, as a query would flush).
    db.session.flush()
    rows = db.session.connection().execute(_queue_statement(after is not None, limit), params).all()
    # The targets in one query per kind (from the registry of target kinds), not one each.
    wanted: dict[str, set[int]] = {}
    for target_type, target_id, _first, _count in rows:
        wanted.setdefault(target_type, set()).add(target_id)
    loaded: dict[tuple[str, int], tuple[object, str]] = {}
    for kind_name, ids in wanted.items():
        kind = targets.get(kind_name)
        if kind is None:
            continue
        for obj, author_name in kind.rows(ids):
            loaded[kind_name, obj.id] = (obj, author_name)
    said = _what_reports_say(after is not None, limit, params) if rows else {}
    items = []
    for target_type, target_id, first_at, count in rows:
        target = loaded.get((target_type, target_id))
        if target is None:
            continue
        items.append(
            {
                "target_type": target_type,
                "target_id": target_id,
                "object": target[0],
                "author_name": target[1],
                "kind": targets.get(target_type),
                "first_report_at": first_at,
                "reports": count,
                **said.get((target_type, target_id), {"reasons": [], "notes": []}),
            }
        )
    return items


REPORT_NOTES_SHOWN = 5


@cache
def _reports_said(after: bool, limit: int) -> Select:
    # The open reports about the targets of a page of the queue (its statement, joined with
    # the same values bound), newest first.
    page = _queue_statement(after, limit).subquery()
    return (
        select(Report.target_type, Report.target_id, Report.reason, Report.note)
        .join(
            page,
            (page.c.target_type == Report.target_type) & (page.c.target_id == Report.target_id),
        )
        .where(
            Report.community_id == bindparam("community_id", type_=Report.community_id.type),
            Report.resolved_at.is_(None),
        )
        .order_by(Report.id.desc())
    )


def _what_reports_say(after: bool, limit: int, params: dict) -> dict:
    """The open reports' reasons (each with how many gave it, most given first) and notes
    (newest first, a few) per target of a page of the queue, in one query; never who
    reported."""
    rows = db.session.connection().execute(_reports_said(after, limit), params)
    found: dict[tuple[str, int], dict] = {}
    for target_type, target_id, reason, note in rows:
        entry = found.setdefault((target_type, target_id), {"counts": Counter(), "notes": []})
        entry["counts"][reason] += 1
        if note and note.strip() and len(entry["notes"]) < REPORT_NOTES_SHOWN:
            entry["notes"].append(note.strip())
    return {
        key: {"reasons": entry["counts"].most_common(), "notes": entry["notes"]}
        for key, entry in found.items()
    }


def public_log(community: Community, *, before: int | None = None, limit: int = 50):
    stmt = select(ModerationAction).where(ModerationAction.community_id == community.id)
    if before:
        stmt = stmt.where(ModerationAction.id < before)
    rows = list(db.session.scalars(stmt.order_by(ModerationAction.id.desc()).limit(limit + 1)))
    return rows[:limit], rows[limit - 1].id if len(rows) > limit else None


def figures(community: Community) -> dict:
    open_targets = (
        select(Report.target_type, Report.target_id)
        .where(Report.community_id == community.id, Report.resolved_at.is_(None))
        .distinct()
        .subquery()
    )
    waiting = db.session.scalar(select(func.count()).select_from(open_targets)) or 0
    since = clock.now() - timedelta(days=30)
    reviewed = db.session.execute(
        select(Proposal.submitted_at, Proposal.reviewed_at).where(
            Proposal.community_id == community.id,
            Proposal.reviewed_at >= since,
            Proposal.submitted_at.is_not(None),
        )
    ).all()
    hours = [(r - s).total_seconds() / 3600 for s, r in reviewed if r and s]
    return {
        "waiting": waiting + proposals.review_queue_size(community),
        "median_review_hours": round(statistics.median(hours), 1) if hours else None,
    }


def reason_label(code: str | None) -> dict:
    from portal.core.i18n import force_locale

    labels = {}
    for loc in ("zh_Hans", "en"):
        with force_locale(loc):
            labels[loc] = {
                "spam": _("spam"),
                "offensive": _("offensive"),
                "personal-data": _("personal data"),
                "off-topic": _("off-topic"),
                "other": _("other reason"),
                "no-violation": _("no violation"),
                "edited-by-author": _("edited by the author"),
                "appeal-upheld": _("appeal upheld"),
            }.get(code or "", code or "")
    return labels


def reason_text(code: str | None) -> str:
    """The reason in the reader's language."""
    from portal.core.i18n import current_locale

    return reason_label(code)[current_locale()]
