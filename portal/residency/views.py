"""Residency pages: the resident's status, the committee's queue, invitation letters."""

from __future__ import annotations

import segno
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.orm import selectinload
from wtforms import SelectChoice

from portal.accounts.forms import EmptyForm
from portal.audit.services import record
from portal.core.database import keep_on_error
from portal.core.errors import DomainError, act_on_form, redirect_on_error
from portal.core.guards import login_required
from portal.core.i18n import gettext as _
from portal.core.input import as_id
from portal.core.limits import configured, user_key
from portal.core.urls import external_url
from portal.extensions import db, limiter
from portal.places.models import Community, Street
from portal.places.services import community_by_code, find_communities
from portal.residency import bp
from portal.residency import services as residency
from portal.residency.forms import BatchForm, DecisionForm, InvitationForm, JoinForm
from portal.residency.models import (
    InvitationBatch,
    InvitationCode,
    ResidencyRequest,
    ResidencyStatus,
)
from portal.residency.permissions import can_see_requests, left_to_supervisor
from portal.roles import permissions

# Up to this many communities the join form lists them all; a city has a thousand, so there the
# resident finds theirs by name or code first and the list holds the matches only.
LIST_ALL_UNDER = 60
MATCHES = 20


def _join_form(find: str = "") -> tuple[JoinForm, bool]:
    """The join form with its community choices, and whether they are search results."""
    form = JoinForm(prefix="join")
    searching = (
        len(db.session.scalars(db.select(Community.id).limit(LIST_ALL_UNDER)).all())
        >= LIST_ALL_UNDER
    )
    if searching:
        # The choice being submitted must be among the choices to validate.
        posted = request.form.get("join-community_code") if request.method == "POST" else None
        communities = find_communities(find[:50], also_code=posted, limit=MATCHES)
    else:
        communities = db.session.scalars(
            db.select(Community)
            .options(selectinload(Community.street).selectinload(Street.district))
            .order_by(Community.code)
        ).all()
    from portal.core.i18n import current_locale

    loc = current_locale()
    form.community_code.choices = [SelectChoice("", _("Choose…"))] + [
        SelectChoice(
            c.code, f"{c.name(loc)} · {c.street.name(loc)} · {c.street.district.name(loc)}"
        )
        for c in communities
    ]
    return form, searching


def _status_page(join=None, invite=None, status_code=200, searching=False):
    """The status page; ``join`` is a join form already built (and submitted), with
    ``searching`` saying whether its choices came from a search."""
    user = current_user._get_current_object()
    state, community = residency.residency_status(user)
    latest = residency.latest_request(user)
    find = request.args.get("find", "")
    if join is None:
        join, searching = _join_form(find)
    return render_template(
        "residency/status.html",
        state=state,
        community=community,
        latest=latest,
        decision_days=residency.typical_decision_days(community)
        if community and state == "pending"
        else None,
        withdraw=EmptyForm() if state == "pending" else None,
        # A confirmed resident asks to move only when they mean to: the forms stay folded.
        moving_open=status_code != 200,
        join=join,
        searching=searching,
        find=find.strip()[:50],
        matches=len(join.community_code.choices) - 1,
        invite=invite or InvitationForm(prefix="invite"),
    ), status_code


@bp.get("/residency")
@login_required
def status():
    invite = InvitationForm(prefix="invite")
    if request.args.get("code"):  # arriving from the QR code on a letter
        invite.invitation_code.data = request.args["code"][:20]
    return _status_page(invite=invite)


_request_limit = configured("RESIDENCY_REQUEST_LIMIT")
_request_ip_limit = configured("RESIDENCY_REQUEST_IP_LIMIT")


# Asking to join and using an invitation code share one budget: codes are not to be guessed.
@bp.post("/residency/request")
@login_required
@limiter.shared_limit(_request_limit, "residency-request", key_func=user_key)
@limiter.shared_limit(_request_ip_limit, "residency-request-ip")
def request_join():
    form, searching = _join_form()
    if form.validate_on_submit():
        community = community_by_code(form.community_code.data)
        if community is None:
            form.community_code.errors.append(_("No community has this code."))
        else:
            try:
                residency.request_residency(
                    current_user._get_current_object(), community, form.address_note.data or ""
                )
            except residency.ResidencyError as err:
                form.community_code.errors.append(err.message)
            else:
                flash(_("Your request has been sent to the neighbourhood committee."), "success")
                return redirect(url_for("residency.status"))
    return _status_page(join=form, status_code=400, searching=searching)


@bp.post("/residency/withdraw")
@login_required
def withdraw():
    if not EmptyForm().validate_on_submit():
        abort(400)
    redirect_on_error(url_for("residency.status"))
    residency.withdraw_request(current_user._get_current_object())
    flash(_("Your request is withdrawn."), "success")
    return redirect(url_for("residency.status"))


@bp.post("/residency/invitation")
@login_required
@limiter.shared_limit(_request_limit, "residency-request", key_func=user_key)
@limiter.shared_limit(_request_ip_limit, "residency-request-ip")
def use_code():
    form = InvitationForm(prefix="invite")
    if form.validate_on_submit():
        try:
            residency.use_invitation(current_user._get_current_object(), form.invitation_code.data)
        except residency.ResidencyError as err:
            form.invitation_code.errors.append(err.message)
        else:
            flash(_("Welcome! Your residency is confirmed."), "success")
            return redirect(url_for("residency.status"))
    return _status_page(invite=form, status_code=400)


def _committee_community(code: str) -> Community:
    community = community_by_code(code)
    if community is None:
        abort(404)
    if not permissions.can_manage_invitations(current_user, community):
        abort(403)
    return community


def _queue_community(code: str) -> Community:
    community = community_by_code(code)
    if community is None:
        abort(404)
    if not can_see_requests(current_user, community):
        abort(403)
    return community


def _render_queue(community: Community, *, failed: DecisionForm | None = None, status=200):
    """The residency queue; ``failed`` is a decision sent with errors, shown on its request's
    card with what was chosen and typed."""
    committee = permissions.is_committee(current_user, community)
    stmt = db.select(ResidencyRequest).where(
        ResidencyRequest.community_id == community.id,
        ResidencyRequest.status == ResidencyStatus.pending,
    )
    if not committee:  # a supervisor sees only the requests left to them
        stmt = stmt.where(left_to_supervisor())
    page = db.paginate(
        stmt.order_by(ResidencyRequest.created_at, ResidencyRequest.id),
        per_page=20,
        error_out=False,
    )
    if page.items:
        record(
            current_user,
            "residency.view_requests",
            community,
            count=len(page.items),
            user_ids=[r.user_id for r in page.items],
        )
        residency.log_queue_view(current_user, community, page.items)
        # Shown again with a decision's errors (a 400), the requests were still seen.
        keep_on_error("the audit entry of the personal data on this page")
    return render_template(
        "residency/queue.html",
        community=community,
        page=page,
        form=DecisionForm(),
        failed=failed,
        failed_id=as_id(failed.request_id.data) if failed is not None else None,
        committee=committee,
    ), status


@bp.get("/communities/<code>/residency")
@login_required
def queue(code: str):
    return _render_queue(_queue_community(code))


@bp.post("/communities/<code>/residency")
@login_required
def decide(code: str):
    community = _queue_community(code)
    form = DecisionForm()
    req = None
    if request_id := as_id(form.request_id.data):
        req = db.session.get(ResidencyRequest, request_id)
    if req is None or req.community_id != community.id:
        abort(404)
    if form.validate_on_submit():
        outcome = act_on_form(
            form,
            lambda: residency.decide(
                current_user._get_current_object(), req, form.decision.data, form.reason.data
            ),
            done=_("Decision saved; the person has been told."),
            then=url_for("residency.queue", code=code),
        )
        if not isinstance(outcome, DomainError):
            return outcome
    return _render_queue(community, failed=form, status=400)


@bp.route("/communities/<code>/invitations", methods=["GET", "POST"])
@login_required
def invitations(code: str):
    community = _committee_community(code)
    form = BatchForm()
    if form.validate_on_submit():
        batch = residency.create_batch(
            current_user._get_current_object(),
            community,
            form.size.data,
            form.label.data or "",
            form.valid_days.data,
        )
        flash(_("%(n)d codes created. Print them for the letters.", n=batch.size), "success")
        return redirect(url_for("residency.print_batch", code=code, batch_id=batch.id))
    batches = db.session.scalars(
        db.select(InvitationBatch)
        .where(InvitationBatch.community_id == community.id)
        .order_by(InvitationBatch.id.desc())
        .limit(50)
    ).all()
    return render_template(
        "residency/invitations.html", community=community, form=form, batches=batches
    ), (400 if request.method == "POST" else 200)


@bp.get("/communities/<code>/invitations/<id:batch_id>")
@login_required
def print_batch(code: str, batch_id: int):
    community = _committee_community(code)
    batch = db.session.get(InvitationBatch, batch_id)
    if batch is None or batch.community_id != community.id:
        abort(404)
    codes = db.session.scalars(
        db.select(InvitationCode)
        .where(InvitationCode.batch_id == batch.id)
        .order_by(InvitationCode.id)
    ).all()
    join_url = external_url("residency.status")
    letters = []
    for inv in codes:
        link = external_url("residency.status", code=residency.format_code(inv.code))
        qr = segno.make(link, error="m")
        # Reviewed exception: segno writes this SVG itself and escapes its one text, our code.
        svg = Markup(qr.svg_inline(scale=3, title=residency.format_code(inv.code)))  # noqa: S704  # nosec B704
        letters.append(
            {
                "code": residency.format_code(inv.code),
                "used": inv.used_at is not None,
                "qr": svg,
            }
        )
    record(current_user, "invitations.print", batch, community=community.code)
    return render_template(
        "residency/print.html", community=community, batch=batch, letters=letters, join_url=join_url
    )
