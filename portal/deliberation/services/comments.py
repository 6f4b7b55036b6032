"""Comments: who may comment, writing, editing and deleting, the thread and the stance counts."""

from __future__ import annotations

from datetime import timedelta

from flask import url_for
from markupsafe import escape
from sqlalchemy import func, select, update
from sqlalchemy.orm import defer, joinedload

from portal.accounts.models import User
from portal.accounts.phones import check_may_take_part
from portal.core import clock
from portal.core.i18n import gettext as _
from portal.core.text import linkify
from portal.deliberation.models import STANCES, Comment
from portal.deliberation.services._common import DeliberationError, check_not_blocked
from portal.extensions import db
from portal.notifications.services import notify
from portal.proposals import hooks
from portal.proposals.models import Proposal, Status
from portal.roles import permissions

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


# What a thread shows of a comment: its HTML (not the text as written) and its author's name
# (not the rest of the account: each column read costs a conversion per row).
_THREAD_OPTIONS = (
    defer(Comment.body),
    joinedload(Comment.author).load_only(User.id, User.display_name, User.erased_at).lazyload("*"),
)


def thread(
    p: Proposal,
    *,
    stance: str | None = None,
    order: str = "oldest",
    after: int | None = None,
    limit: int = 50,
) -> tuple[list[Comment], dict, int | None]:
    """One page of top-level comments (keyset on id) with their replies in one query."""
    stmt = (
        select(Comment)
        .where(Comment.proposal_id == p.id, Comment.parent_id.is_(None))
        .options(*_THREAD_OPTIONS)
    )
    if stance in STANCES:
        stmt = stmt.where(Comment.stance == stance)
    if after is not None:
        stmt = stmt.where(Comment.id > after if order == "oldest" else Comment.id < after)
    stmt = stmt.order_by(Comment.id.asc() if order == "oldest" else Comment.id.desc())
    top = list(db.session.scalars(stmt.limit(limit + 1)).unique())
    nxt = top[limit - 1].id if len(top) > limit else None
    top = top[:limit]
    replies: dict[int, list[Comment]] = {c.id: [] for c in top}
    # Filtering on the proposal too lets the (proposal_id, parent_id, id) index answer this.
    if top:
        for r in db.session.scalars(
            select(Comment)
            .options(*_THREAD_OPTIONS)
            .where(Comment.proposal_id == p.id, Comment.parent_id.in_(list(replies)))
            .order_by(Comment.id)
        ).unique():
            if r.parent_id is not None:  # always: replies were asked for
                replies[r.parent_id].append(r)
    return top, replies, nxt


def stance_counts(p: Proposal) -> dict[str, int]:
    rows = db.session.execute(
        select(Comment.stance, func.count())
        .where(
            Comment.proposal_id == p.id,
            Comment.parent_id.is_(None),
            Comment.deleted_at.is_(None),
            Comment.hidden.is_(False),
        )
        .group_by(Comment.stance)
    ).all()
    counts = dict.fromkeys(STANCES, 0)
    # Every top-level comment has a stance (the table's CHECK).
    counts.update({stance: n for stance, n in rows if stance is not None})
    return counts
