"""Deliberation rules: comments, reports with automatic hiding, moderation actions that are
reasoned, reversible and public, blocks, and appeals decided by someone else."""

from __future__ import annotations

import statistics
from datetime import datetime, timedelta

from flask import current_app, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import escape
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import joinedload, lazyload

from portal.accounts.models import User
from portal.audit.services import record
from portal.blocks.models import Block
from portal.blocks.services import active_block as active_block
from portal.blocks.services import is_blocked
from portal.core import clock
from portal.core.errors import DomainError
from portal.core.text import linkify
from portal.deliberation.models import (
    HIDE_REASONS,
    REPORT_REASONS,
    RESTORE_REASONS,
    STANCES,
    Appeal,
    Comment,
    ModerationAction,
    Report,
)
from portal.deliberation.signals import comment_hidden
from portal.extensions import db
from portal.notifications.services import notify, register_type
from portal.places.models import Community
from portal.proposals import hooks
from portal.proposals import services as proposals
from portal.proposals.models import Proposal, Status
from portal.roles import permissions
from portal.roles.models import Role, RoleGrant

EDIT_MINUTES = 15
MAX_BODY = 1000
COMMENTABLE = {Status.open, Status.qualified, Status.expired, Status.rejected, Status.withdrawn}

for _name, _text in {
    "content_hidden": _l("Your %(kind)s was hidden by the committee: %(reason)s. You may appeal."),
    "content_restored": _l("Your %(kind)s is visible again."),
    "content_hidden_automatically": _l(
        "A %(kind)s in %(community)s was hidden automatically after reports. Please review it."
    ),
    "appeal_waiting": _l("An appeal against a moderation decision is waiting for you."),
    "appeal_decided": _l("Your appeal was decided: %(outcome)s."),
    "comment_reply": _l("Someone replied to your comment on “%(title)s”."),
    "proposal_comment": _l("New comment on your proposal “%(title)s”."),
    "blocked": _l("You may not take part in %(community)s until %(until)s: %(reason)s"),
}.items():
    register_type(_name, _text)


class DeliberationError(DomainError):
    """A deliberation rule (comments, reports, blocks) said no."""


# --- blocks ----------------------------------------------------------------------------------


def check_not_blocked(user, community_id: int) -> None:
    if is_blocked(user, community_id):
        raise DeliberationError(
            "blocked", _("You are blocked from taking part in this community."), status=403
        )


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
    badge, _agency = _badge(user, p)
    return user.community_id == p.community_id or badge is not None


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


def thread(
    p: Proposal,
    *,
    stance: str | None = None,
    order: str = "oldest",
    after: int | None = None,
    limit: int = 50,
) -> tuple[list[Comment], dict, int | None]:
    """One page of top-level comments (keyset on id) with their replies in one query."""
    stmt = select(Comment).where(Comment.proposal_id == p.id, Comment.parent_id.is_(None))
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


# --- reports ---------------------------------------------------------------------------------


def _target(target_type: str, target_id: int):
    model = {"proposal": Proposal, "comment": Comment}.get(target_type)
    if model is None:
        raise DeliberationError(
            "invalid_target", _("Report a proposal or a comment."), status=400, field="target_type"
        )
    obj = db.session.get(model, target_id)
    if obj is None:
        raise DeliberationError("not_found", _("There is nothing to report here."), status=404)
    return obj


def _community_id(obj) -> int:
    return (
        obj.community_id
        if isinstance(obj, Proposal)
        else db.session.get_one(Proposal, obj.proposal_id).community_id
    )


def report(user: User, target_type: str, target_id: int, reason: str, note: str = "") -> Report:
    obj = _target(target_type, target_id)
    community_id = _community_id(obj)
    if isinstance(obj, Proposal) and not proposals.is_visible(user, obj):
        raise DeliberationError("not_found", _("There is nothing to report here."), status=404)
    check_not_blocked(user, community_id)
    if reason not in REPORT_REASONS:
        raise DeliberationError("invalid_reason", _("Choose a reason."), status=400, field="reason")
    note = (note or "").strip()
    if reason == "other" and not note:
        raise DeliberationError("note_required", _("Say what is wrong."), status=400, field="note")
    exists = db.session.scalar(
        select(Report.id).where(
            Report.target_type == target_type,
            Report.target_id == target_id,
            Report.reporter_id == user.id,
        )
    )
    if exists is not None:
        raise DeliberationError("already_reported", _("You have already reported this."))
    r = Report(
        community_id=community_id,
        target_type=target_type,
        target_id=target_id,
        reporter_id=user.id,
        reason=reason,
        note=note[:500],
    )
    db.session.add(r)
    model = type(obj)
    # Also the lock that puts concurrent reports of one target in a row, so that each counts
    # those committed before it.
    db.session.execute(
        update(model).where(model.id == obj.id).values(report_count=model.report_count + 1)
    )
    db.session.flush()
    db.session.refresh(obj)
    community = db.session.get_one(Community, community_id)
    threshold = current_app.config.get("AUTO_HIDE_REPORTS", 3)
    if not obj.hidden and counting_reports(target_type, obj.id, community) >= threshold:
        _hide(obj, None, community_id, reason_code=reason, note=None, automatic=True)
        notify(
            committee_members(community_id),
            "content_hidden_automatically",
            obj,
            url=url_for("deliberation.workspace", code=community.code),
            params={
                "kind": _kind(obj),
                "community": {"zh_Hans": community.name_zh, "en": community.name_en},
            },
        )
    return r


def counts_toward_hiding(community: Community):
    """Whose reports hide content automatically: the confirmed residents of its community, its
    committee, the supervisors of its district and admins. Anyone else's report waits in the
    moderation queue for the committee. An expression on ``Report.reporter_id``."""
    resident = (
        select(User.id)
        .where(User.id == Report.reporter_id, User.community_id == community.id)
        .exists()
    )
    staff = (
        select(RoleGrant.id)
        .where(
            RoleGrant.user_id == Report.reporter_id,
            or_(
                and_(RoleGrant.role == Role.committee, RoleGrant.community_id == community.id),
                and_(
                    RoleGrant.role == Role.supervisor,
                    RoleGrant.district_id == community.street.district_id,
                ),
                RoleGrant.role == Role.admin,
            ),
        )
        .exists()
    )
    return or_(resident, staff)


def counting_reports(target_type: str, target_id: int, community: Community) -> int:
    """Open reports of a target that count toward hiding it automatically."""
    return (
        db.session.scalar(
            select(func.count(Report.id)).where(
                Report.target_type == target_type,
                Report.target_id == target_id,
                Report.resolved_at.is_(None),
                counts_toward_hiding(community),
            )
        )
        or 0
    )


# --- moderation ------------------------------------------------------------------------------


def _log(
    community_id: int,
    action: str,
    *,
    actor,
    role: str,
    target_type: str,
    target_id: int,
    reason_code=None,
    note=None,
    automatic=False,
    subject_user_id=None,
    until=None,
) -> ModerationAction:
    entry = ModerationAction(
        community_id=community_id,
        action=action,
        automatic=automatic,
        reason_code=reason_code,
        note=note,
        actor_id=getattr(actor, "id", None),
        actor_role=role,
        target_type=target_type,
        target_id=target_id,
        subject_user_id=subject_user_id,
        until=until,
    )
    db.session.add(entry)
    db.session.flush()
    record(
        actor,
        f"moderation.{action}",
        ("moderation_actions", entry.id),
        target=f"{target_type}:{target_id}",
        automatic=automatic,
        reason=reason_code,
    )
    return entry


def log_rejection(actor, p: Proposal, reason_code: str, note: str | None) -> ModerationAction:
    """Proposal rejections belong in the public moderation log too."""
    return _log(
        p.community_id,
        "reject",
        actor=actor,
        role="committee",
        target_type="proposal",
        target_id=p.id,
        reason_code=reason_code,
        note=note,
        subject_user_id=p.author_id,
    )


def _log_rejected(p: Proposal, *, actor, reason_code: str, note: str | None, **_: object) -> None:
    log_rejection(actor, p, reason_code, note)


def install(app) -> None:
    """Subscribe deliberation to the domain events of proposals (``create_app`` calls this;
    importing this module connects nothing). Connecting twice is connecting once."""
    from portal.proposals.signals import proposal_rejected

    proposal_rejected.connect(_log_rejected)


def _author_id(obj) -> int:
    return obj.author_id


def _kind(obj) -> dict:
    if isinstance(obj, Proposal):
        return {"zh_Hans": "提议", "en": "proposal"}
    return {"zh_Hans": "评论", "en": "comment"}


def _url(obj) -> str:
    pid = obj.id if isinstance(obj, Proposal) else obj.proposal_id
    return url_for("proposals.show", proposal_id=pid)


def _hide(
    obj, actor, community_id: int, *, reason_code, note, automatic: bool, role: str = "committee"
) -> ModerationAction:
    if not obj.hidden or obj.hidden_at is None:
        obj.hidden_at = clock.now()  # hidden since: kept when the committee confirms a hide
    obj.hidden, obj.hidden_auto, obj.hidden_reason = True, automatic, reason_code
    obj.hidden_note = note
    entry = _log(
        community_id,
        "hide",
        actor=actor,
        role="system" if automatic else role,
        target_type="proposal" if isinstance(obj, Proposal) else "comment",
        target_id=obj.id,
        reason_code=reason_code,
        note=note,
        automatic=automatic,
        subject_user_id=_author_id(obj),
    )
    notify(
        [_author_id(obj)],
        "content_hidden",
        entry,
        url=url_for("deliberation.appeals_page"),  # where the author can appeal
        params={"kind": _kind(obj), "reason": reason_label(reason_code)},
    )
    if not isinstance(obj, Proposal):
        comment_hidden.send(obj, actor=actor, reason_code=reason_code, automatic=automatic)
    return entry


def _restore(obj, actor, community_id: int, reason_code: str, note, role: str = "committee"):
    if isinstance(obj, Proposal):
        proposals.resume_window(obj)  # supports were refused while it was hidden
    obj.hidden, obj.hidden_auto, obj.hidden_reason, obj.hidden_note = False, False, None, None
    obj.hidden_at = None
    entry = _log(
        community_id,
        "restore",
        actor=actor,
        role=role,
        target_type="proposal" if isinstance(obj, Proposal) else "comment",
        target_id=obj.id,
        reason_code=reason_code,
        note=note,
        subject_user_id=_author_id(obj),
    )
    _resolve_reports(obj)
    notify([_author_id(obj)], "content_restored", entry, url=_url(obj), params={"kind": _kind(obj)})
    return entry


def _resolve_reports(obj) -> None:
    kind = "proposal" if isinstance(obj, Proposal) else "comment"
    db.session.execute(
        update(Report)
        .where(Report.target_type == kind, Report.target_id == obj.id, Report.resolved_at.is_(None))
        .values(resolved_at=clock.now())
    )


def can_moderate(user, community_id: int) -> bool:
    return community_id in permissions.committee_community_ids(user)


def moderate(
    user: User,
    action: str,
    target_type: str,
    target_id: int,
    *,
    reason_code: str | None = None,
    note: str | None = None,
    until: datetime | None = None,
) -> ModerationAction:
    note = (note or "").strip() or None
    obj = _target(target_type, target_id)
    community_id = _community_id(obj)
    if not can_moderate(user, community_id):
        raise DeliberationError("forbidden", _("You moderate only your own community."), status=403)
    if action in ("block", "unblock"):
        # From a proposal or comment in the queue: its author, in its community.
        return block_user(
            user,
            db.session.get_one(Community, community_id),
            obj.author,
            action=action,
            note=note,
            until=until,
        )
    if action == "hide":
        if reason_code not in HIDE_REASONS:
            raise DeliberationError(
                "reason_required", _("Choose a reason."), status=400, field="reason_code"
            )
        if obj.hidden and not obj.hidden_auto:
            raise DeliberationError("already_hidden", _("This is already hidden."))
        _resolve_reports(obj)
        return _hide(obj, user, community_id, reason_code=reason_code, note=note, automatic=False)
    if action == "restore":
        if reason_code not in RESTORE_REASONS:
            raise DeliberationError(
                "reason_required", _("Choose a reason."), status=400, field="reason_code"
            )
        if not obj.hidden:
            raise DeliberationError("not_hidden", _("This is not hidden."))
        return _restore(obj, user, community_id, reason_code, note)
    if action == "dismiss":
        if reason_code not in RESTORE_REASONS:
            raise DeliberationError(
                "reason_required", _("Choose a reason."), status=400, field="reason_code"
            )
        _resolve_reports(obj)
        if obj.hidden and obj.hidden_auto:
            return _restore(obj, user, community_id, reason_code, note)
        return _log(
            community_id,
            "dismiss",
            actor=user,
            role="committee",
            target_type=target_type,
            target_id=obj.id,
            reason_code=reason_code,
            note=note,
            subject_user_id=obj.author_id,
        )
    if action in ("lock", "unlock"):
        if not isinstance(obj, Proposal):
            raise DeliberationError(
                "invalid_target",
                _("Lock a proposal's discussion."),
                status=400,
                field="target_type",
            )
        if obj.locked == (action == "lock"):
            raise DeliberationError(f"already_{action}ed", _("Nothing to change."))
        if action == "lock" and not note:
            raise DeliberationError(
                "note_required", _("Say why the discussion is locked."), status=400, field="note"
            )
        obj.locked, obj.lock_reason = action == "lock", note if action == "lock" else None
        return _log(
            community_id,
            action,
            actor=user,
            role="committee",
            target_type="proposal",
            target_id=obj.id,
            note=note,
        )
    raise DeliberationError("invalid_action", _("Unknown action."), status=400, field="action")


def block_user(
    user: User,
    community: Community,
    target: User,
    *,
    action: str = "block",
    note: str | None = None,
    until: datetime | None = None,
) -> ModerationAction:
    if not can_moderate(user, community.id):
        raise DeliberationError("forbidden", _("You moderate only your own community."), status=403)
    current = active_block(target, community.id)
    if action == "block":
        if not note:
            raise DeliberationError(
                "note_required", _("Give the reason for the block."), status=400, field="note"
            )
        if until is not None and until <= clock.now():
            raise DeliberationError(
                "invalid_until", _("Choose a date in the future."), status=400, field="until"
            )
        if current is not None:
            raise DeliberationError("already_blocked", _("This participant is already blocked."))
        db.session.add(
            Block(
                community_id=community.id,
                user_id=target.id,
                until=until,
                reason=note,
                created_by_id=user.id,
            )
        )
        entry = _log(
            community.id,
            "block",
            actor=user,
            role="committee",
            target_type="user",
            target_id=target.id,
            note=note,
            until=until,
            subject_user_id=target.id,
        )
        notify(
            [target.id],
            "blocked",
            entry,
            url=url_for("places.community", code=community.code),
            params={
                "community": {"zh_Hans": community.name_zh, "en": community.name_en},
                "until": until.date().isoformat()
                if until
                else {"zh_Hans": "另行通知", "en": "further notice"},
                "reason": note,
            },
        )
        return entry
    if current is None:
        raise DeliberationError("not_blocked", _("This participant is not blocked."))
    current.lifted_at = clock.now()
    return _log(
        community.id,
        "unblock",
        actor=user,
        role="committee",
        target_type="user",
        target_id=target.id,
        note=note,
        subject_user_id=target.id,
    )


# --- appeals ---------------------------------------------------------------------------------


def appeal(user: User, action: ModerationAction, note: str) -> Appeal:
    if action.subject_user_id != user.id or action.action not in ("hide", "block"):
        raise DeliberationError(
            "not_appealable",
            _("You can appeal only a decision about your own content or participation."),
            status=403,
        )
    note = (note or "").strip()
    if not note:
        raise DeliberationError(
            "note_required", _("Say why the decision should change."), status=400, field="note"
        )
    if db.session.scalar(select(Appeal.id).where(Appeal.action_id == action.id)) is not None:
        raise DeliberationError("already_appealed", _("This decision has already been appealed."))
    others = [
        uid
        for uid in committee_members(action.community_id)
        if uid != action.actor_id and uid != user.id
    ]
    role = "committee" if others else "supervisor"
    a = Appeal(action_id=action.id, appellant_id=user.id, note=note[:1000], decider_role=role)
    db.session.add(a)
    db.session.flush()
    deciders = others if others else supervisors(action.community_id)
    notify(deciders, "appeal_waiting", a, url=url_for("deliberation.appeals_page"))
    return a


def committee_members(community_id: int) -> list[int]:
    return list(
        db.session.scalars(
            select(RoleGrant.user_id).where(
                RoleGrant.role == Role.committee, RoleGrant.community_id == community_id
            )
        )
    )


def supervisors(community_id: int) -> list[int]:
    community = db.session.get_one(Community, community_id)
    return list(
        db.session.scalars(
            select(RoleGrant.user_id).where(
                RoleGrant.role == Role.supervisor,
                RoleGrant.district_id == community.street.district_id,
            )
        )
    )


def can_decide_appeal(user, a: Appeal) -> bool:
    if not getattr(user, "is_authenticated", False) or user.id in (
        a.action.actor_id,
        a.appellant_id,
    ):
        return False
    if a.decider_role == "committee":
        return can_moderate(user, a.action.community_id)
    community = db.session.get_one(Community, a.action.community_id)
    return permissions.is_supervisor(user, community.street.district)


def decide_appeal(user: User, a: Appeal, decision: str, note: str) -> None:
    if not can_decide_appeal(user, a):
        raise DeliberationError(
            "forbidden", _("This appeal is for another person to decide."), status=403
        )
    if a.status != "pending":
        raise DeliberationError("already_decided", _("This appeal has already been decided."))
    note = (note or "").strip()
    if decision not in ("uphold", "reverse") or not note:
        raise DeliberationError(
            "invalid_decision",
            _("Choose uphold or reverse, with a note."),
            status=400,
            field="decision",
        )
    a.status = "upheld" if decision == "uphold" else "reversed"
    a.decided_by_id, a.decided_at, a.decision_note = user.id, clock.now(), note
    action = a.action
    role = "committee" if a.decider_role == "committee" else "supervisor"
    if decision == "reverse":
        if action.action == "hide":
            obj = _target(action.target_type, action.target_id)
            if obj.hidden:
                _restore(obj, user, action.community_id, "appeal-upheld", note, role=role)
        elif action.action == "block":
            block = active_block(db.session.get(User, action.target_id), action.community_id)
            if block is not None:
                block.lifted_at = clock.now()
    _log(
        action.community_id,
        f"appeal_{a.status}",
        actor=user,
        role=role,
        target_type=action.target_type,
        target_id=action.target_id,
        note=note,
        subject_user_id=action.subject_user_id,
    )
    notify(
        [a.appellant_id],
        "appeal_decided",
        a,
        url=url_for("deliberation.appeals_page"),
        params={
            "outcome": {
                "zh_Hans": "维持原决定" if decision == "uphold" else "已撤销原决定",
                "en": "decision upheld" if decision == "uphold" else "decision reversed",
            }
        },
    )
    db.session.flush()


# --- queues, logs, figures -------------------------------------------------------------------


QUEUE_PAGE = 25


def queue_cursor(item: dict) -> list:
    """Where the page after ``item`` starts: its first report's time, kind and id."""
    return [item["first_report_at"].isoformat(), item["target_type"], item["target_id"]]


def queue(community: Community, limit: int = QUEUE_PAGE, after: tuple | None = None) -> list[dict]:
    """Open reports grouped by target, oldest first, with waiting time; keyset-paginated on
    (first report, kind, id) after ``after``."""
    first = func.min(Report.created_at)
    stmt = (
        select(Report.target_type, Report.target_id, first, func.count())
        .where(Report.community_id == community.id, Report.resolved_at.is_(None))
        .group_by(Report.target_type, Report.target_id)
    )
    if after is not None:
        when, kind, ident = after
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
    rows = db.session.execute(
        stmt.order_by(first, Report.target_type, Report.target_id).limit(limit)
    ).all()
    # The targets in two queries (one per kind), not one each.
    wanted: dict[str, set[int]] = {"proposal": set(), "comment": set()}
    for target_type, target_id, _first, _count in rows:
        wanted.setdefault(target_type, set()).add(target_id)
    loaded: dict[tuple[str, int], object] = {}
    if wanted["proposal"]:
        for obj in db.session.scalars(
            select(Proposal).where(Proposal.id.in_(wanted["proposal"])).options(lazyload("*"))
        ):
            loaded["proposal", obj.id] = obj
    if wanted["comment"]:
        for comment in db.session.scalars(
            select(Comment)
            .where(Comment.id.in_(wanted["comment"]))
            .options(lazyload("*"), joinedload(Comment.author).lazyload("*"))
        ).unique():
            loaded["comment", comment.id] = comment
    items = []
    for target_type, target_id, first_at, count in rows:
        target = loaded.get((target_type, target_id))
        if target is None:
            continue
        items.append(
            {
                "target_type": target_type,
                "target_id": target_id,
                "object": target,
                "first_report_at": first_at,
                "reports": count,
            }
        )
    return items


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
        "waiting": waiting
        + (
            db.session.scalar(
                select(func.count()).select_from(proposals.review_queue(community).subquery())
            )
            or 0
        ),
        "median_review_hours": round(statistics.median(hours), 1) if hours else None,
    }


def reason_label(code: str | None) -> dict:
    from flask_babel import force_locale

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
