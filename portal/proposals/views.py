"""Proposal pages: lists, writing, the proposal page, support, review, my supports."""

from __future__ import annotations

from functools import cache, lru_cache, partial

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import joinedload, with_expression
from wtforms import SelectChoice

from portal.accounts.forms import EmptyForm
from portal.accounts.models import User
from portal.core import clock
from portal.core.database import after_commit
from portal.core.errors import DomainError, act_on_form, field_error, redirect_on_error
from portal.core.guards import login_required, public
from portal.core.i18n import (
    OptionLists,
    code_name_lists,
    current_locale,
    found_city_timezone,
    option_lists,
)
from portal.core.i18n import gettext as _
from portal.core.input import BadCursor, as_id
from portal.core.limits import configured, user_key
from portal.core.pagination import page_of
from portal.extensions import db, limiter
from portal.media.images import MAX_BYTES
from portal.media.storage import send_image, storage_for
from portal.places.models import District, Grid
from portal.places.services import city_timezone_column, community_by_code
from portal.proposals import bp, cards, hooks, listing
from portal.proposals import services as proposals
from portal.proposals.forms import (
    REVIEW_FORMS,
    DuplicateForm,
    ProposalForm,
    ReviewForm,
    WithdrawForm,
)
from portal.proposals.models import Category, Proposal, ProposalPhoto, Status, Support
from portal.roles import permissions

PAGE_SIZE = 20
UPLOAD_ENDPOINTS = {"proposals.new", "proposals.edit"}


@bp.before_app_request
def _allow_photo_uploads():
    """Forms with photos may carry 4 × 5 MB; every other request keeps the small default."""
    if request.endpoint in UPLOAD_ENDPOINTS and request.method == "POST":
        request.max_content_length = 4 * MAX_BYTES + 1024 * 1024


def _uploads(form: ProposalForm) -> list[bytes]:
    return [f.read() for f in (form.photos.data or []) if getattr(f, "filename", "")]


_support_limit = configured("SUPPORT_LIMIT")
_support_ip_limit = configured("SUPPORT_IP_LIMIT")
_create_limit = configured("PROPOSAL_CREATE_LIMIT")
_create_ip_limit = configured("PROPOSAL_CREATE_IP_LIMIT")


def categories() -> list[Category]:
    return list(
        db.session.scalars(
            select(Category).where(Category.active).order_by(Category.position, Category.id)
        )
    )


def _filters_from_request(community=None, district_id=None) -> listing.Filters:
    code = request.args.get("category") or ""
    category = next((c for c in categories() if c.code == code), None) if code else None
    status = request.args.get("status") or None
    if status not in listing.PUBLIC_STATUSES:
        status = None
    sort = request.args.get("sort", "new")
    return listing.Filters(
        community_id=community.id if community is not None else None,
        district_id=district_id,
        category=category,
        status=status,
        q=(request.args.get("q") or "")[:50].strip(),
        sort=sort if sort in listing.SORTS else "new",
    )


@cache
def _category_options() -> OptionLists:
    """The category filter's options: the active categories (statement built once)."""
    return option_lists((Category, (Category.position, Category.id), Category.active))


def _list_page(template: str, **context):
    f = context["filters"]
    try:
        items, nxt, cases = listing.page(f, request.args.get("cursor"), PAGE_SIZE)
    except listing.BadCursor:
        abort(400)
    mine = proposals.supported_ids(current_user, [p.id for p in items])
    return render_template(
        template,
        items=cards.views(items, clock.now()),
        next_cursor=nxt,
        categories=code_name_lists(_category_options())[0],
        mine=mine,
        cases=cases,
        sorts=listing.SORTS,
        statuses=listing.PUBLIC_STATUSES,
        **context,
    )


@bp.get("/communities/<code>/proposals")
@public
def community_list(code: str):
    found = proposals.community_with_review_queue_size(code)
    if found is None:
        abort(404)
    community, waiting = found
    return _list_page(
        "proposals/list.html",
        community=community,
        district=None,
        filters=_filters_from_request(community=community),
        waiting=waiting,
    )


@bp.get("/places/<code>/proposals")
@public
def district_list(code: str):
    district = db.session.scalar(select(District).where(District.code == code))
    if district is None:
        abort(404)
    return _list_page(
        "proposals/list.html",
        community=None,
        district=district,
        filters=_filters_from_request(district_id=district.id),
        waiting=0,
    )


def _prepare_form(form: ProposalForm, community) -> None:
    loc = current_locale()
    form.category.choices = [SelectChoice("", _("Choose…"))] + [
        SelectChoice(c.code, f"{c.icon} {c.name(loc)}") for c in categories()
    ]
    grids = db.session.scalars(
        select(Grid).where(Grid.community_id == community.id).order_by(Grid.code)
    ).all()
    form.grid.choices = [SelectChoice("", _("Not sure / whole community"))] + [
        SelectChoice(g.code, f"{g.name(loc)} ({g.code})") for g in grids
    ]


def _form_values(form: ProposalForm, community) -> dict:
    category = next((c for c in categories() if c.code == form.category.data), None)
    if category is None:
        raise proposals.ProposalError(
            "invalid_category", _("Choose a category."), status=400, field="category"
        )
    grid = None
    if form.grid.data:
        grid = db.session.scalar(select(Grid).where(Grid.code == form.grid.data))
        if grid is None or grid.community_id != community.id:
            raise proposals.ProposalError(
                "invalid_grid", _("Choose a grid of this community."), status=400, field="grid"
            )
    return {
        "title": form.title.data,
        "summary": form.summary.data,
        "body": form.body.data,
        "category": category,
        "grid": grid,
        "location_note": form.location_note.data or "",
    }


@bp.route("/communities/<code>/proposals/new", methods=["GET", "POST"])
@login_required
@limiter.limit(_create_limit, methods=["POST"], key_func=user_key)
@limiter.limit(_create_ip_limit, methods=["POST"])
def new(code: str):
    community = community_by_code(code)
    if community is None:
        abort(404)
    if current_user.community_id != community.id:
        abort(403)
    form = ProposalForm()
    _prepare_form(form, community)
    similar = []
    if form.validate_on_submit():
        submit = request.form.get("action") == "submit"
        try:
            values = _form_values(form, community)
            if submit and form.confirmed.data != "1":
                similar = proposals.similar(community, f"{form.title.data} {form.summary.data}")
            if not similar:
                user = current_user._get_current_object()
                p = proposals.create(user, community, submit=False, **values)
                proposals.add_photos(user, p, _uploads(form))
                if submit:
                    proposals.submit_proposal(user, p)
                flash(
                    _("Your proposal was sent to the committee for review.")
                    if submit
                    else _("Your draft is saved."),
                    "success",
                )
                return redirect(url_for("proposals.show", proposal_id=p.id))
            form.confirmed.data = "1"
        except proposals.ProposalError as err:
            db.session.rollback()
            field_error(form, err)
    status = 400 if request.method == "POST" and (form.errors or similar) else 200
    return render_template(
        "proposals/form.html",
        form=form,
        community=community,
        similar=similar,
        proposal=None,
        button=EmptyForm(),
    ), status


def _load(proposal_id: int) -> Proposal:
    p = db.session.get(Proposal, proposal_id)
    if p is None or not proposals.is_visible(current_user, p):
        abort(404)
    return p


@cache
def _page_statement() -> Select:
    # The page's proposal, built once with its id bound; of its author only the public name
    # (joined whole, the account's thirty columns were read on every view); whether it has
    # photos, so that a page without any does not ask for them; the city's time zone, for the
    # page's dates.
    return (
        select(Proposal, city_timezone_column())
        .where(Proposal.id == bindparam("proposal_id", type_=Proposal.id.type))
        .options(
            joinedload(Proposal.author)
            .load_only(User.id, User.display_name, User.erased_at)
            .lazyload("*"),
            with_expression(Proposal.has_photos, proposals.has_photos()),
        )
    )


def _load_page(proposal_id: int) -> Proposal:
    row = db.session.execute(_page_statement(), {"proposal_id": proposal_id}).first()
    if row is None or not proposals.is_visible(current_user, row[0]):
        abort(404)
    found_city_timezone(row[1])
    return row[0]


def _review_forms(posted: ReviewForm | None = None) -> dict[str, ReviewForm]:
    """One form per decision (``posted``, sent with errors, in its place)."""
    return {
        name: posted if posted is not None and posted.decision_name == name else cls(prefix=name)
        for name, cls in REVIEW_FORMS.items()
    }


def _render_show(p: Proposal, *, review: ReviewForm | None = None, status: int = 200):
    """The proposal page; ``review`` is a decision form sent with errors."""
    # Forms (and their CSRF tokens, which start a session) only for signed-in readers:
    # visitors' pages stay cookie-free and cacheable.
    signed = current_user.is_authenticated
    is_committee = permissions.is_committee(current_user, p.community)
    reviewing = signed and is_committee and p.status == Status.submitted
    return render_template(
        "proposals/show.html",
        # The parts of the page of the features built on proposals (the deliberation thread).
        **hooks.page_sections(p),
        p=p,
        status=proposals.effective_status(p),
        supported=(standing := proposals.support_standing(current_user, p)).supported,
        events=proposals.history(p),
        can_support=standing.can,
        support_refusal=standing.refusal,
        can_read=proposals.can_read(current_user, p),
        is_author=(is_author := signed and current_user.id == p.author_id),
        is_committee=is_committee,
        withdraw_form=is_author and WithdrawForm(),  # shown to the author only
        review_forms=_review_forms(review) if reviewing else {},
        review_open=review.decision_name if review is not None else None,
        # What the author was shown before sending it, shown to those who decide on it.
        similar=proposals.similar_to(p) if reviewing else [],
        next_step=proposals.next_step(p) if p.status == Status.submitted else None,
        button=signed and EmptyForm(),
        photos=proposals.photos(p) if proposals.can_view_photos(current_user, p) else [],
        S=Status,
        now=clock.now(),
    ), status


@bp.get("/proposals/<id:proposal_id>")
@public
def show(proposal_id: int):
    return _render_show(_load_page(proposal_id))


@bp.route("/proposals/<id:proposal_id>/edit", methods=["GET", "POST"])
@login_required
def edit(proposal_id: int):
    p = _load(proposal_id)
    if p.author_id != current_user.id:
        abort(403)
    if p.status not in proposals.EDITABLE:
        flash(
            _("A proposal can be edited only as a draft or when the committee asked for changes."),
            "error",
        )
        return redirect(url_for("proposals.show", proposal_id=p.id))
    form = ProposalForm(obj=p if request.method == "GET" else None)
    _prepare_form(form, p.community)
    if request.method == "GET":
        form.category.data = p.category.code
        form.grid.data = p.grid.code if p.grid else ""
    if form.validate_on_submit():
        try:
            proposals.edit(current_user._get_current_object(), p, **_form_values(form, p.community))
            proposals.add_photos(current_user._get_current_object(), p, _uploads(form))
            if request.form.get("action") == "submit":
                proposals.submit_proposal(current_user._get_current_object(), p)
            flash(_("Your proposal is saved."), "success")
            return redirect(url_for("proposals.show", proposal_id=p.id))
        except proposals.ProposalError as err:
            db.session.rollback()
            field_error(form, err)
    return render_template(
        "proposals/form.html",
        form=form,
        community=p.community,
        similar=[],
        proposal=p,
        button=EmptyForm(),
        photos=proposals.photos(p),
    ), (400 if request.method == "POST" else 200)


def _act(proposal_id: int, action, success: str, form=None):
    p = _load(proposal_id)
    form = form or EmptyForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            flash(" ".join(str(e) for e in errors), "error")
        return redirect(url_for("proposals.show", proposal_id=p.id))
    redirect_on_error(url_for("proposals.show", proposal_id=p.id))
    action(p, form)
    flash(success, "success")
    return redirect(url_for("proposals.show", proposal_id=p.id))


@bp.post("/proposals/<id:proposal_id>/submit")
@login_required
def submit(proposal_id: int):
    return _act(
        proposal_id,
        lambda p, f: proposals.submit_proposal(current_user, p),
        _("Your proposal was sent to the committee for review."),
    )


@bp.post("/proposals/<id:proposal_id>/withdraw")
@login_required
def withdraw(proposal_id: int):
    return _act(
        proposal_id,
        lambda p, f: proposals.withdraw(current_user, p, f.reason.data),
        _("The proposal is withdrawn."),
        WithdrawForm(),
    )


@bp.post("/proposals/<id:proposal_id>/support")
@login_required
@limiter.limit(_support_limit, key_func=user_key)
@limiter.limit(_support_ip_limit)
def support(proposal_id: int):
    return _act(
        proposal_id,
        lambda p, f: proposals.support(current_user, p),
        _("Thank you: your support is counted. Nobody can see who supported."),
    )


@bp.post("/proposals/<id:proposal_id>/unsupport")
@login_required
@limiter.limit(_support_limit, key_func=user_key)
@limiter.limit(_support_ip_limit)
def unsupport(proposal_id: int):
    return _act(
        proposal_id,
        lambda p, f: proposals.unsupport(current_user, p),
        _("Your support is withdrawn."),
    )


def _original(form: ReviewForm) -> Proposal | None:
    """The proposal a duplicate points to, from the number typed ("1024" or "#1024")."""
    ref = ((getattr(form, "duplicate_of", None) and form.duplicate_of.data) or "").strip()
    ident = as_id(ref.lstrip("#"))
    return db.session.get(Proposal, ident) if ident else None


@bp.post("/proposals/<id:proposal_id>/review")
@login_required
def review(proposal_id: int):
    p = _load(proposal_id)
    if not permissions.is_committee(current_user, p.community):
        abort(403)
    cls = REVIEW_FORMS.get(request.form.get("decision", ""))
    if cls is None:
        abort(400)
    form = cls(prefix=cls.decision_name)
    if form.validate_on_submit():
        duplicate = cls is DuplicateForm
        outcome = act_on_form(
            form,
            lambda: proposals.review(
                current_user,
                p,
                "reject" if duplicate else cls.decision_name,
                reason_code="duplicate"
                if duplicate
                else getattr(form, "reason_code", None) and form.reason_code.data,
                note=form.note.data,
                duplicate_of=_original(form) if duplicate else None,
            ),
            done=_("Decision saved; the author has been told."),
            then=url_for("proposals.show", proposal_id=p.id),
        )
        if not isinstance(outcome, DomainError):
            return outcome
    return _render_show(_load(proposal_id), review=form, status=400)


@bp.get("/communities/<code>/review")
@login_required
def review_queue(code: str):
    community = community_by_code(code)
    if community is None:
        abort(404)
    if not permissions.is_committee(current_user, community):
        abort(403)
    items = db.session.scalars(proposals.review_queue(community).limit(100)).all()
    return render_template(
        "proposals/review.html",
        community=community,
        items=items,
        overdue=proposals.is_overdue,
        now=clock.now(),
    )


MINE_PAGE = 20


def _mine_page(stmt, column, params: dict | None = None):
    """One page of a "my" list, newest first, after the request's cursor (400 for a bad one)."""
    try:
        return page_of(
            stmt, column, request.args.get("cursor"), MINE_PAGE, descending=True, params=params
        )
    except BadCursor:
        abort(400)


@lru_cache(maxsize=16)
def _my_proposals(status: str | None) -> Select:
    """The author's proposals as card rows with their details (``cards.select_mine``) and
    their cases (``hooks.with_cases``), of one state or all, built once per state: parameters
    ``author`` and ``now``."""
    mine = proposals.my_proposals(
        bindparam("author", type_=Proposal.author_id.type),
        status,
        cards.select_mine(),
        now=bindparam("now", type_=Proposal.closes_at.type),
    )
    return hooks.with_cases(mine)


@bp.get("/account/proposals")
@login_required
def my_proposals():
    status = request.args.get("status") or None
    if status not in proposals.MINE_STATUSES:
        status = None
    now = clock.now()
    rows, next_cursor = _mine_page(
        _my_proposals(status), Proposal.id, {"author": current_user.id, "now": now}
    )
    heads, cases = hooks.cases_in(rows, cards.MINE_WIDTH)
    mine = cards.split_mine(heads)
    shown = cards.views([card for card, _detail in mine], now)
    return render_template(
        "proposals/my_proposals.html",
        items=[(c, detail) for c, (_card, detail) in zip(shown, mine, strict=True)],
        next_cursor=next_cursor,
        status=status,
        statuses=proposals.MINE_STATUSES,
        cases=cases,
        now=now,
    )


@bp.get("/account/supports")
@login_required
def my_supports():
    rows, next_cursor = _mine_page(proposals.my_supports(current_user), Support.id)
    return render_template(
        "proposals/my_supports.html",
        rows=rows,
        next_cursor=next_cursor,
        cases=hooks.cases_of([p for p, _at, _id in rows]),
    )


@bp.get("/proposals/<id:proposal_id>/photos/<id:photo_id>")
@bp.get("/proposals/<id:proposal_id>/photos/<id:photo_id>/<any(thumb):size>")
@public
def photo(proposal_id: int, photo_id: int, size: str = "full"):
    p = db.session.get(Proposal, proposal_id)
    row = db.session.get(ProposalPhoto, photo_id)
    if (
        p is None
        or row is None
        or row.proposal_id != p.id
        or not proposals.can_view_photos(current_user, p)
    ):
        abort(404)
    public_now = p.status in (Status.open, Status.qualified, Status.expired, Status.withdrawn)
    return send_image(
        storage_for(current_app),
        row.thumb_name if size == "thumb" else row.name,
        row.content_type,
        private=not public_now,
    )


@bp.post("/proposals/<id:proposal_id>/photos/<id:photo_id>/delete")
@login_required
def delete_photo(proposal_id: int, photo_id: int):
    p = _load(proposal_id)
    row = db.session.get(ProposalPhoto, photo_id)
    if row is None or row.proposal_id != p.id:
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    redirect_on_error(url_for("proposals.show", proposal_id=p.id))
    names = proposals.remove_photo(current_user._get_current_object(), p, row)
    storage = storage_for(current_app)
    for name in names:  # files go only once the row is gone for good
        after_commit(partial(storage.delete, name))
    flash(_("The photo is removed."), "success")
    return redirect(url_for("proposals.edit", proposal_id=p.id))
