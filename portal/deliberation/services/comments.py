"""Comments: who may comment, writing, editing and deleting, the thread and the stance counts."""

from __future__ import annotations

from datetime import timedelta
from functools import cache
from operator import attrgetter
from typing import cast

from flask import url_for
from markupsafe import escape
from sqlalchemy import (
    CompoundSelect,
    Row,
    Select,
    Table,
    bindparam,
    func,
    select,
    union_all,
    update,
)

from portal.accounts.models import User
from portal.accounts.phones import check_may_take_part
from portal.core import clock
from portal.core.database import read
from portal.core.i18n import gettext as _
from portal.core.text import linkify
from portal.deliberation.models import STANCES, Comment
from portal.deliberation.services._common import DeliberationError, check_not_blocked
from portal.extensions import db
from portal.notifications.services import notify
from portal.proposals import hooks
from portal.proposals.models import Proposal, Status
from portal.roles import permissions
from portal.roles.models import Agency

EDIT_MINUTES = 15
MAX_BODY = 1000
COMMENTABLE = {Status.open, Status.qualified, Status.expired, Status.rejected, Status.withdrawn}


# --- comments --------------------------------------------------------------------------------


def _badge(user, p: Proposal) -> tuple[str | None, int | None]:
    if permissions.is_committee(user, p.community):
        return "committee", None
    case = hooks.case_of(p)
    if case is not None and permissions.is_liaison(user, case.agency):
        return "liaison", case.agency_id
    return None, None


def can_comment(user, p: Proposal) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if user.community_id == p.community_id:
        return True
    badge, _agency = _badge(user, p)
    return badge is not None


def render_body(text: str) -> str:
    """Plain text with links and line breaks: escaped, linkified, <br> for newlines."""
    return linkify(str(escape(text))).replace("\n", "<br>\n")


def add_comment(
    user: User, p: Proposal, body: str, stance: str | None, parent: Comment | None = None
) -> Comment:
    body = (body or "").strip()
    if not can_comment(user, p):
        raise DeliberationError(
            "not_allowed",
            _(
                "Only residents of this community, its "
                "committee and the agency handling the case "
                "can comment."
            ),
            status=403,
        )
    check_not_blocked(user, p.community_id)
    check_may_take_part(user)
    if p.hidden:
        raise DeliberationError("hidden", _("This proposal is hidden; comments are closed."))
    if p.locked:
        raise DeliberationError("locked", _("The committee has locked this discussion."))
    if p.status not in COMMENTABLE:
        raise DeliberationError("not_open", _("Comments open once the proposal is published."))
    if not body:
        raise DeliberationError("body_required", _("Write something."), status=400, field="body")
    if len(body) > MAX_BODY:
        raise DeliberationError(
            "too_long", _("Use at most %(n)d characters.", n=MAX_BODY), status=400, field="body"
        )
    if parent is not None:
        if parent.proposal_id != p.id or parent.parent_id is not None:
            raise DeliberationError(
                "invalid_parent",
                _("Reply to a comment of this proposal."),
                status=400,
                field="parent_id",
            )
        if parent.hidden or parent.deleted_at is not None:
            raise DeliberationError("hidden", _("This comment can no longer be answered."))
        stance = None
    elif stance not in STANCES:
        raise DeliberationError(
            "stance_required", _("Choose for, against or question."), status=400, field="stance"
        )
    badge, agency_id = _badge(user, p)
    c = Comment(
        proposal_id=p.id,
        author_id=user.id,
        parent_id=parent.id if parent else None,
        stance=stance,
        body=body,
        body_html=render_body(body),
        badge=badge,
        badge_agency_id=agency_id,
    )
    db.session.add(c)
    db.session.execute(
        update(Proposal).where(Proposal.id == p.id).values(last_activity_at=clock.now())
    )
    db.session.flush()
    url = url_for("proposals.show", proposal_id=p.id) + f"#comment-{c.id}"
    if parent is not None and parent.author_id != user.id:
        notify([parent.author_id], "comment_reply", c, url=url, params={"title": p.title})
    if p.author_id != user.id and (parent is None or parent.author_id != p.author_id):
        notify([p.author_id], "proposal_comment", c, url=url, params={"title": p.title})
    return c


def edit_comment(user: User, c: Comment, body: str) -> None:
    if c.author_id != user.id:
        raise DeliberationError("not_author", _("Only the author can edit a comment."), status=403)
    if c.deleted_at is not None or c.hidden:
        raise DeliberationError("not_editable", _("This comment can no longer be edited."))
    if clock.now() - c.created_at > timedelta(minutes=EDIT_MINUTES):
        raise DeliberationError(
            "edit_window_over", _("Comments can be edited for %(n)d minutes.", n=EDIT_MINUTES)
        )
    body = (body or "").strip()
    if not body or len(body) > MAX_BODY:
        raise DeliberationError(
            "invalid_body", _("Write 1 to %(n)d characters.", n=MAX_BODY), status=400, field="body"
        )
    c.body, c.body_html, c.edited_at = body, render_body(body), clock.now()
    db.session.flush()


def delete_comment(user: User, c: Comment) -> None:
    if c.author_id != user.id:
        raise DeliberationError(
            "not_author", _("Only the author can delete a comment."), status=403
        )
    if c.deleted_at is not None:
        raise DeliberationError("already_deleted", _("This comment is already deleted."))
    c.deleted_at = clock.now()
    c.body, c.body_html = "", ""  # the text goes; the place in the thread stays
    db.session.flush()


# What a thread shows of a comment: its HTML (not the text as written), its author's name and
# the agency of a liaison's badge, as rows (each column read costs a conversion per row, an ORM
# object much more). Only whether it was edited or deleted, not when.
def _thread_columns():
    c, u, a = _tables()
    return (
        c.c.id,
        c.c.parent_id,
        c.c.author_id,
        c.c.stance,
        c.c.body_html,
        c.c.badge,
        c.c.created_at,
        c.c.edited_at.is_not(None).label("edited"),
        c.c.deleted_at.is_not(None).label("deleted"),
        c.c.hidden,
        c.c.hidden_auto,
        c.c.hidden_reason,
        c.c.hidden_note,
        u.c.display_name,
        u.c.erased_at,
        a.c.name_zh.label("agency_zh"),
        a.c.name_en.label("agency_en"),
    )


def _tables() -> tuple[Table, Table, Table]:
    return (
        cast(Table, Comment.__table__),
        cast(Table, User.__table__),
        cast(Table, Agency.__table__),
    )


@cache
def _thread_statement(stance: bool, order: str, after: bool, limit: int) -> CompoundSelect:
    """A page of top-level comments (keyset on id) and their replies in one statement, built
    once per shape with the proposal, the stance and the cursor as bound parameters (building
    it cost more than running it; a second round trip for the replies, as much again)."""
    c, u, a = _tables()
    proposal_id = bindparam("proposal_id", type_=c.c.proposal_id.type)
    page = select(c.c.id).where(c.c.proposal_id == proposal_id, c.c.parent_id.is_(None))
    if stance:
        page = page.where(c.c.stance == bindparam("stance", type_=c.c.stance.type))
    if after:
        cursor = bindparam("after", type_=c.c.id.type)
        page = page.where(c.c.id > cursor if order == "oldest" else c.c.id < cursor)
    page = page.order_by(c.c.id.asc() if order == "oldest" else c.c.id.desc()).limit(limit)
    shown = page.cte("page")
    rows = select(*_thread_columns()).join_from(c, u, u.c.id == c.c.author_id)
    rows = rows.outerjoin(a, a.c.id == c.c.badge_agency_id)
    return union_all(
        rows.where(c.c.id.in_(select(shown.c.id))),
        # Filtering on the proposal too lets the (proposal_id, parent_id, id) index answer this.
        rows.where(c.c.proposal_id == proposal_id, c.c.parent_id.in_(select(shown.c.id))),
    )


_ID = attrgetter("id")


def thread(
    p: Proposal,
    *,
    stance: str | None = None,
    order: str = "oldest",
    after: int | None = None,
    limit: int = 50,
) -> tuple[list[Row], dict[int, list[Row]], int | None]:
    """One page of top-level comments (keyset on id) with their replies, as rows of
    ``_thread_columns``, in one query."""
    order = "oldest" if order == "oldest" else "newest"
    shown_stance = stance if stance in STANCES else None
    stmt = _thread_statement(shown_stance is not None, order, after is not None, limit + 1)
    params = {"proposal_id": p.id, "stance": shown_stance, "after": after}
    top: list[Row] = []
    answers: list[Row] = []
    for r in read(stmt, params).all():
        (top if r.parent_id is None else answers).append(r)
    top.sort(key=_ID, reverse=order != "oldest")
    nxt = top[limit - 1].id if len(top) > limit else None
    top = top[:limit]
    replies: dict[int, list[Row]] = {c.id: [] for c in top}
    answers.sort(key=_ID)
    for r in answers:
        if r.parent_id in replies:  # not those of the first comment of the next page
            replies[r.parent_id].append(r)
    return top, replies, nxt


@cache
def _stance_counts() -> Select:
    # Built once, the proposal bound, on the table's columns: every proposal's page asks.
    c = cast(Table, Comment.__table__)
    return (
        select(c.c.stance, func.count())
        .where(
            c.c.proposal_id == bindparam("proposal_id", type_=c.c.proposal_id.type),
            c.c.parent_id.is_(None),
            c.c.deleted_at.is_(None),
            c.c.hidden.is_(False),
        )
        .group_by(c.c.stance)
    )


def stance_counts(p: Proposal) -> dict[str, int]:
    rows = read(_stance_counts(), {"proposal_id": p.id}).all()
    counts = dict.fromkeys(STANCES, 0)
    # Every top-level comment has a stance (the table's CHECK).
    counts.update({stance: n for stance, n in rows if stance is not None})
    return counts
