"""Comments, reports, the committee's moderation workspace, the public log, appeals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import select
from werkzeug.wrappers import Response

from portal.accounts.forms import EmptyForm
from portal.accounts.models import public_name
from portal.core import clock
from portal.core.database import keep_on_error
from portal.core.errors import redirect_on_error
from portal.core.guards import login_required, public
from portal.core.i18n import city_timezone_name, current_locale, datetime_formatter, localized
from portal.core.i18n import gettext as _
from portal.core.input import BadCursor, Key, as_id, decode_cursor, encode_cursor, id_arg
from portal.core.limits import configured, user_key
from portal.core.pagination import page_of
from portal.core.security import safe_next
from portal.core.templating import stamp, user_content, written_html
from portal.deliberation import bp
from portal.deliberation import services as delib
from portal.deliberation import targets as target_kinds
from portal.deliberation.cards import queue_cards, queue_list
from portal.deliberation.forms import (
    REPORT_LABELS,
    AppealDecisionForm,
    AppealForm,
    CommentForm,
    EditCommentForm,
    ModerateForm,
    ReportForm,
)
from portal.deliberation.models import Appeal, Comment, ModerationAction
from portal.extensions import db, limiter
from portal.places.services import community_by_code
from portal.proposals import services as proposals
from portal.proposals.models import Proposal
from portal.residency.services import log_staff_views
from portal.roles import permissions


def _proposal(proposal_id: int) -> Proposal:
    p = db.session.get(Proposal, proposal_id)
    if p is None or not proposals.is_visible(current_user, p):
        abort(404)
    return p


def _back_url(p_or_id: Proposal | int, anchor: str = "comments") -> str:
    pid = p_or_id if isinstance(p_or_id, int) else p_or_id.id
    return url_for("proposals.show", proposal_id=pid) + f"#{anchor}"


def _back(p_or_id: Proposal | int, anchor: str = "comments") -> Response:
    return redirect(_back_url(p_or_id, anchor))


_comment_limit = configured("COMMENT_LIMIT")
_comment_ip_limit = configured("COMMENT_IP_LIMIT")
_report_limit = configured("REPORT_LIMIT")
_report_ip_limit = configured("REPORT_IP_LIMIT")


# Refusals about the person's standing are told on the page they came from, not as a 403 page.
_FLASHED = ("blocked", "not_allowed")


def _on_error_back_to(url: str) -> None:
    redirect_on_error(url, flashed=_FLASHED)


@bp.post("/proposals/<id:proposal_id>/comments")
@login_required
@limiter.shared_limit(_comment_limit, "comment", key_func=user_key)
@limiter.shared_limit(_comment_ip_limit, "comment-ip")
def comment(proposal_id: int):
    p = _proposal(proposal_id)
    form = CommentForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            flash(" ".join(str(e) for e in errors), "error")
        return _back(p)
    parent = None
    if form.parent_id.data:
        parent_id = as_id(form.parent_id.data)
        parent = db.session.get(Comment, parent_id) if parent_id else None
        if parent is None:
            abort(404)
    _on_error_back_to(_back_url(p))
    c = delib.add_comment(
        current_user._get_current_object(), p, form.body.data, form.stance.data, parent
    )
    flash(_("Your comment is published."), "success")
    return _back(p, f"comment-{c.id}")


def _own_comment(comment_id: int) -> Comment:
    c = db.session.get(Comment, comment_id)
    if c is None:
        abort(404)
    if c.author_id != current_user.id:
        abort(403)
    return c


@bp.route("/comments/<id:comment_id>/edit", methods=["GET", "POST"])
@login_required
# Editing rewrites what others read: the same budget as writing a comment, or a person could
# publish a short comment and rewrite it without limit.
@limiter.shared_limit(_comment_limit, "comment", key_func=user_key, methods=["POST"])
@limiter.shared_limit(_comment_ip_limit, "comment-ip", methods=["POST"])
def edit_comment(comment_id: int):
    c = _own_comment(comment_id)
    form = EditCommentForm(obj=c)
    if form.validate_on_submit():
        _on_error_back_to(_back_url(c.proposal_id))
        delib.edit_comment(current_user._get_current_object(), c, form.body.data)
        flash(_("Your comment is updated."), "success")
        return _back(c.proposal_id, f"comment-{c.id}")
    return render_template("deliberation/edit.html", form=form, comment=c), (
        400 if request.method == "POST" else 200
    )


@bp.post("/comments/<id:comment_id>/delete")
@login_required
def delete_comment(comment_id: int):
    c = _own_comment(comment_id)
    if EmptyForm().validate_on_submit():
        _on_error_back_to(_back_url(c.proposal_id))
        delib.delete_comment(current_user._get_current_object(), c)
        flash(_("Your comment is deleted."), "success")
    return _back(c.proposal_id)


@bp.post("/reports")
@login_required
@limiter.shared_limit(_report_limit, "report", key_func=user_key)
@limiter.shared_limit(_report_ip_limit, "report-ip")
def report():
    form = ReportForm()
    back = safe_next(request.form.get("next"), url_for("main.home"))
    if not form.validate_on_submit() or not form.target_id.data.isdigit():
        for errors in form.errors.values():
            flash(" ".join(str(e) for e in errors), "error")
        return redirect(back)
    _on_error_back_to(back)
    delib.report(
        current_user._get_current_object(),
        form.target_type.data,
        int(form.target_id.data),
        form.reason.data,
        form.note.data or "",
    )
    flash(_("Thank you. The committee will look at your report."), "success")
    return redirect(back)


def _committee_community(code: str):
    community = community_by_code(code)
    if community is None:
        abort(404)
    if not delib.can_moderate(current_user, community.id):
        abort(403)
    return community


def _render_workspace(community, *, form: ModerateForm | None = None, selected=(), status=200):
    """The moderation workspace; ``form`` is the bulk form sent with errors, ``selected`` the
    items it had ticked."""
    after = None
    try:
        raw = decode_cursor(
            request.args.get("after"), Key.instant, Key.one_of(*target_kinds.names()), Key.id
        )
    except BadCursor:
        abort(400)
    if raw is not None:
        after = tuple(raw)
    items = delib.queue(community, delib.QUEUE_PAGE + 1, after)
    more_url = None
    if len(items) > delib.QUEUE_PAGE:
        items = items[: delib.QUEUE_PAGE]
        more_url = url_for(
            "deliberation.workspace",
            code=community.code,
            after=encode_cursor(delib.queue_cursor(items[-1])),
        )
    # The authors' names are shown next to what was reported about them.
    authors = [getattr(it["object"], "author_id", None) for it in items]
    log_staff_views(current_user, community, authors, "reports")
    keep_on_error("the log of the residents' names this page showed")
    return render_template(
        "deliberation/workspace.html",
        community=community,
        cards=queue_cards(
            items,
            selected=set(selected),
            labels=REPORT_LABELS,
            now=clock.now(),
        ),
        queue_list=queue_list,
        more_url=more_url,
        form=form or ModerateForm(),
        review_count=proposals.review_queue_size(community),
    ), status


@bp.get("/communities/<code>/moderation")
@login_required
def workspace(code: str):
    return _render_workspace(_committee_community(code))


def _until(value) -> datetime | None:
    if value is None:
        return None
    return datetime.combine(
        value, time(23, 59, 59), tzinfo=ZoneInfo(city_timezone_name())
    ).astimezone(ZoneInfo("UTC"))


WORKSPACE_ACTIONS = ("hide", "restore", "dismiss", "block")


def _workspace_errors(form: ModerateForm, targets: list) -> bool:
    """The bulk form's own checks, each told at its field: an item, an action, a reason from
    the list of that action. True when something is missing."""
    if not targets:
        form.targets.errors = [_("Choose at least one item.")]
    if form.action.data not in WORKSPACE_ACTIONS:
        form.action.errors = [_("Choose an action.")]
    elif form.action.data != "block" and not form.chosen_reason():
        form.reason_field().errors = [*form.reason_field().errors, _("Choose a reason.")]
    return bool(form.errors)


@bp.post("/moderation")
@login_required
def moderate():
    if not permissions.committee_community_ids(current_user):
        abort(403)
    form = ModerateForm()
    back = safe_next(request.form.get("next"), url_for("main.home"))
    raw_targets = request.form.getlist("target") or (form.targets.data or "").split(",")
    targets: list[tuple[str, int]] = []
    for raw in raw_targets:
        kind, _sep, ident = raw.partition(":")
        target_id = as_id(ident)
        if target_kinds.get(kind) is not None and target_id:
            targets.append((kind, target_id))
    # The workspace's bulk form is shown again with its errors and what was ticked and typed.
    workspace = None
    if code := request.form.get("workspace"):
        workspace = _committee_community(code)
    valid = form.validate_on_submit()
    if workspace is not None and (_workspace_errors(form, targets) or not valid):
        return _render_workspace(workspace, form=form, selected=raw_targets, status=400)
    if not valid or not targets:
        flash(_("Choose at least one item and an action."), "error")
        return redirect(back)
    done = 0
    for kind, ident in targets:
        try:
            with db.session.begin_nested():
                delib.moderate(
                    current_user._get_current_object(),
                    form.action.data,
                    kind,
                    ident,
                    reason_code=form.chosen_reason(),
                    note=form.note.data,
                    until=_until(form.until.data),
                )
            done += 1
        except delib.DeliberationError as err:
            if err.status in (403, 404):
                db.session.rollback()
                abort(err.status)
            flash(f"{kind} #{ident}: {err.message}", "error")
    if done:
        flash(_("Done for %(n)d item(s).", n=done), "success")
    return redirect(back)


@bp.get("/communities/<code>/moderation-log")
@public
def log(code: str):
    community = community_by_code(code)
    if community is None:
        abort(404)
    rows, more = delib.public_log(community, before=id_arg("before"))
    return render_template(
        "deliberation/log.html",
        community=community,
        rows=rows,
        more=more,
        figures=delib.figures(community),
        reason_label=delib.reason_label,
    )


def _acted_on(action: ModerationAction):
    kind = target_kinds.get(action.target_type)
    if kind is None:  # a block: about a person
        return None, None
    return kind, db.session.get(kind.model, action.target_id)


def _hidden_content(action: ModerationAction) -> str | None:
    """What the person deciding an appeal must read (only they reach this page's section)."""
    kind, obj = _acted_on(action)
    return kind.text(obj) if obj is not None else None


def _target_url(action: ModerationAction) -> str | None:
    """Where the hidden item of a decision is (None for blocks)."""
    kind, obj = _acted_on(action)
    return kind.url(obj) if obj is not None else None


@bp.route("/appeals", methods=["GET", "POST"])
@login_required
def appeals_page():
    form = AppealForm()
    if request.method == "POST":
        action_id = as_id(form.action_id.data)
        action = db.session.get(ModerationAction, action_id) if action_id else None
        if action is None:
            abort(404)
        if form.validate_on_submit():
            _on_error_back_to(url_for("deliberation.appeals_page"))
            delib.appeal(current_user._get_current_object(), action, form.note.data)
            flash(_("Your appeal is sent. Someone other than the moderator decides it."), "success")
        else:
            flash(_("Say why the decision should change."), "error")
        return redirect(url_for("deliberation.appeals_page"))
    mine = db.session.scalars(
        select(ModerationAction)
        .where(
            ModerationAction.subject_user_id == current_user.id,
            ModerationAction.action.in_(["hide", "block"]),
        )
        .order_by(ModerationAction.id.desc())
        .limit(50)
    ).all()
    appealed = {
        a.action_id: a
        for a in db.session.scalars(select(Appeal).where(Appeal.appellant_id == current_user.id))
    }
    pending = [
        a
        for a in db.session.scalars(
            select(Appeal).where(Appeal.status == "pending").order_by(Appeal.id).limit(200)
        )
        if delib.can_decide_appeal(current_user, a)
    ]
    return render_template(
        "deliberation/appeals.html",
        mine=mine,
        appealed=appealed,
        pending=pending,
        form=form,
        decision=AppealDecisionForm(),
        reason_label=delib.reason_label,
        target_url=_target_url,
        hidden_content=_hidden_content,
    )


@bp.post("/appeals/<id:appeal_id>/decision")
@login_required
def decide(appeal_id: int):
    a = db.session.get(Appeal, appeal_id)
    if a is None:
        abort(404)
    if not delib.can_decide_appeal(current_user, a):
        abort(403)
    form = AppealDecisionForm()
    if form.validate_on_submit():
        _on_error_back_to(url_for("deliberation.appeals_page"))
        delib.decide_appeal(
            current_user._get_current_object(), a, form.decision.data, form.note.data
        )
        flash(_("Decision saved and published in the moderation log."), "success")
    else:
        flash(_("Choose a decision and write a note."), "error")
    return redirect(url_for("deliberation.appeals_page"))


# Top-level comments on one page of a discussion (with their replies); "More comments" goes on.
# Each carries a report and a reply form for a signed-in reader, so a longer page costs a
# phone a long download and the server a long render.
COMMENTS_PER_PAGE = 20


MINE_PAGE = 20


@bp.get("/account/comments")
@login_required
def my_comments():
    try:
        rows, next_cursor = page_of(
            delib.my_comments(current_user),
            Comment.id,
            request.args.get("cursor"),
            MINE_PAGE,
            descending=True,
        )
    except BadCursor:
        abort(400)
    return render_template("deliberation/my_comments.html", rows=rows, next_cursor=next_cursor)


@dataclass(slots=True)
class ThreadComment:
    """A comment as the thread shows it, everything the template prints worked out here: a
    template attribute lookup, call or filter costs a dozen calls, times every comment."""

    id: int
    author_id: int
    name: str
    stance: str | None
    badge: str | None
    agency: str  # a liaison's agency, in the reader's language
    created_iso: str
    created: str
    body_html: str  # rendered by ``render_body``: escaped, linkified
    edited: bool
    visible: bool  # neither deleted nor hidden
    deleted: bool
    hidden_auto: bool
    hidden_reason: str | None
    hidden_note: str | None
    editable: bool  # still within the author's edit window
    replyable: bool  # a top-level comment still shown: it takes replies
    replies: list[ThreadComment]


def _thread_comments(rows, replies: dict) -> list[ThreadComment]:
    when = datetime_formatter("short")
    locale = current_locale()
    editable_since = clock.now() - timedelta(minutes=delib.EDIT_MINUTES)

    def item(r, top: bool) -> ThreadComment:
        visible = not (r.deleted or r.hidden)
        return ThreadComment(
            r.id,
            r.author_id,
            public_name(r.display_name, r.erased_at),
            r.stance,
            r.badge,
            localized(r.agency_zh, r.agency_en, locale) if r.badge == "liaison" else "",
            r.created_at.isoformat(),
            when(r.created_at),
            r.body_html,
            r.edited,
            visible,
            r.deleted,
            r.hidden_auto,
            r.hidden_reason,
            r.hidden_note,
            r.created_at > editable_since,
            top and visible,
            [item(x, False) for x in replies.get(r.id, ())] if top else [],
        )

    return [item(r, True) for r in rows]


def _stamped(html: Markup | None, ident: int) -> str:
    """A form rendered once with ``STAND_IN``, for the comment ``ident`` (``core.templating
    .stamp``); nothing for a form this reader does not get."""
    return stamp(html, ident) if html else ""


def comment_items(
    comments: list[ThreadComment],
    *,
    me: int | None,
    committee: Markup,
    edit: Markup | None = None,
    delete: Markup | None = None,
    report: Markup | None = None,
    moderate: Markup | None = None,
    reply: Markup | None = None,
) -> Markup:
    """A page of the thread as the ``<li>`` items of its list, replies nested: written here,
    not in the template, where each comment cost some sixty calls of attribute lookups,
    tests and filters. The forms (``edit`` … ``reply``) come rendered once by the template
    with ``STAND_IN`` for the comment's number (``core.templating.stamp``), and only for a
    reader who gets them; ``committee`` is the committee's badge, and every fixed word is
    translated once a page."""
    stances = {"for": _("For"), "against": _("Against"), "question": _("Question")}
    t_edited, t_deleted = escape(_("edited")), escape(_("Deleted by the author."))
    t_auto_hidden = escape(
        _("Hidden automatically after several reports, until the committee reviews it.")
    )
    out: list[str] = []
    add = out.append

    def write(c: ThreadComment) -> None:
        ident = c.id
        badge = c.badge
        add(f'<li><article class="comment{" official" if badge else ""}" id="comment-{ident}">')
        if not c.visible:
            if c.deleted:
                add(f'<p class="muted">{t_deleted}</p>')
            else:
                said: str
                if c.hidden_auto:
                    said = t_auto_hidden
                else:
                    reason = escape(delib.reason_text(c.hidden_reason))
                    said = _("Hidden by the committee: %(reason)s.", reason=reason)
                    if c.hidden_note:
                        said = f"{said} {user_content(c.hidden_note)}"
                add(f'<p class="muted hidden-note">{said}</p>')
        else:
            name = escape(c.name)
            add(f'<header class="comment-head"><strong class="user-content">{name}</strong>')
            if badge == "committee":
                add(f' <span class="tag official-tag">{committee}</span>')
            elif badge == "liaison":
                agency = _("Agency: %(name)s", name=escape(c.agency))
                add(f' <span class="tag official-tag">{agency}</span>')
            if c.stance:
                label = stances.get(c.stance, "")
                add(f' <span class="stance stance-{escape(c.stance)}">{escape(label)}</span>')
            when = f'datetime="{escape(c.created_iso)}">{escape(c.created)}'
            add(f' <time class="small" {when}</time>')
            if c.edited:
                add(f' <span class="small">({t_edited})</span>')
            add(f'</header><div class="comment-body user-content">{c.body_html}</div>')
            if me is not None or moderate:
                add('<div class="comment-actions">')
                if me is not None and me == c.author_id:
                    if c.editable:
                        add(_stamped(edit, ident))
                    add(_stamped(delete, ident))
                elif me is not None:
                    add(_stamped(report, ident))
                add(_stamped(moderate, ident))
                add("</div>")
        add("</article>")
        if c.replies:
            add('<ol class="replies">')
            for r in c.replies:
                write(r)
            add("</ol>")
        if c.replyable:
            add(_stamped(reply, ident))
        add("</li>")

    for c in comments:
        write(c)
    # Every value above escaped (or ``body_html``, rendered safe by ``render_body``), every
    # fixed word from our catalogue.
    return written_html("".join(out))


def proposal_page_section(p: Proposal) -> dict:
    """The deliberation part of a proposal's page (``proposals.views.show``): the thread, its
    counts and, for signed-in readers only, the forms (their CSRF tokens start a session)."""
    signed = current_user.is_authenticated
    stance = request.args.get("stance")
    order = "newest" if request.args.get("order") == "newest" else "oldest"
    comments, replies, more = delib.thread(
        p, stance=stance, order=order, after=id_arg("after"), limit=COMMENTS_PER_PAGE
    )
    can_comment = delib.can_comment(current_user, p) and not p.locked and not p.hidden
    can_moderate = delib.can_moderate(current_user, p.community_id)
    return {
        "comments": _thread_comments(comments, replies),
        "more_comments": more,
        "stance": stance if stance in ("for", "against", "question") else None,
        "order": order,
        "counts": delib.stance_counts(p),
        "can_comment": can_comment,
        # Each form only for a reader it is shown to (a form costs some hundred calls).
        "comment_form": can_comment and CommentForm(),
        "report_form": signed and ReportForm(),
        "moderate_form": can_moderate and ModerateForm(),
        "can_moderate": can_moderate,
        "comment_items": comment_items,
    }
