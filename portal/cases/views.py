"""Case pages: the public list and case page, the action forms, and the three workspaces."""

from __future__ import annotations

import re
from datetime import datetime
from functools import cache, lru_cache
from typing import Any, NamedTuple, cast
from zoneinfo import ZoneInfo

from flask import abort, current_app, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import joinedload, lazyload, with_expression
from wtforms import SelectChoice

from portal.cases import bp
from portal.cases import cards as workspace_cards
from portal.cases import services as cases
from portal.cases.forms import ActionForm, FeedbackForm
from portal.cases.models import Case, CasePhoto, CaseState
from portal.core import clock
from portal.core.errors import DomainError, act_on_form
from portal.core.guards import login_required, public
from portal.core.i18n import (
    CodeName,
    OptionLists,
    city_timezone_name,
    code_name_lists,
    current_locale,
    found_city_timezone,
    option_lists,
)
from portal.core.i18n import gettext as _
from portal.core.input import id_arg, is_id
from portal.core.urls import query_args
from portal.extensions import db
from portal.media.images import MAX_BYTES
from portal.media.storage import send_image, storage_for
from portal.places.models import Community, District
from portal.places.services import city_timezone_column, community_by_code, find_communities
from portal.proposals import services as proposals
from portal.proposals.models import Category, Proposal
from portal.residency import services as residency
from portal.roles import permissions
from portal.roles.models import Agency, Role

PAGE_SIZE = 20


@cache
def _filter_options() -> OptionLists:
    """The filter bar's categories, agencies and districts, in one statement (built once)."""
    return option_lists(
        (Category, (Category.position, Category.id), None),
        (Agency, (Agency.code,), None),
        (District, (District.code,), None),
    )


class CaseFilters(NamedTuple):
    """Which of ``case_query``'s filters a request sets: the shape of its statement."""

    state: bool
    category: bool
    agency: bool
    community: bool
    district: bool
    overdue: str | None  # "true", "false" or None


_WHEN = Case.stage_due_at.type


@lru_cache(maxsize=128)
def filtered(shape: CaseFilters) -> Select:
    """``select(Case)`` narrowed by the filters ``shape`` sets, their values as bound
    parameters (state, category, agency, community, district, now): built once per shape, as
    building and keying a statement costs more than running it."""
    stmt = select(Case)
    if shape.state:
        stmt = stmt.where(Case.state == bindparam("state", type_=Case.state.type))
    if shape.category:
        stmt = stmt.where(Case.category_id == bindparam("category", type_=Case.category_id.type))
    if shape.agency:
        stmt = stmt.where(Case.agency_id == bindparam("agency", type_=Case.agency_id.type))
    if shape.community:
        stmt = stmt.where(Case.community_id == bindparam("community", type_=Case.community_id.type))
    if shape.district:
        stmt = stmt.where(cases.in_district(bindparam("district", type_=District.id.type)))
    now = bindparam("now", type_=_WHEN)
    if shape.overdue == "true":
        stmt = stmt.where(cases.overdue_clause(now))
    elif shape.overdue == "false":
        stmt = stmt.where(
            (Case.state == CaseState.closed)
            | (Case.stage_due_at.is_(None))
            | (Case.stage_due_at >= now)
        )
    return stmt


_STATES = frozenset(s.value for s in CaseState)


def case_query(args) -> tuple[CaseFilters, dict] | str:
    """Filters shared by the public list and the API: state, category, agency, community,
    district, overdue. Returns the shape of ``filtered``'s statement and its parameters, or
    the field in error."""
    params: dict[str, Any] = {}
    state = args.get("state")
    if state:
        if state not in _STATES:
            return "state"
        params["state"] = CaseState(state)
    for key, model in (
        ("category", Category),
        ("agency", Agency),
        ("community", Community),
        ("district", District),
    ):
        code = args.get(key)
        if code:
            obj_id = db.session.scalar(select(model.id).where(model.code == code))
            if obj_id is None:
                return key
            params[key] = obj_id
    overdue = args.get("overdue") or None
    if overdue not in (None, "true", "false"):
        return "overdue"
    if overdue is not None:
        params["now"] = clock.now()
    shape = CaseFilters(
        "state" in params,
        "category" in params,
        "agency" in params,
        "community" in params,
        "district" in params,
        overdue,
    )
    return shape, params


@lru_cache(maxsize=128)
def _list_statement(shape: CaseFilters, communities: bool, before: bool) -> Select:
    """The public list's page: ``filtered`` by ``shape``, in the communities the box names
    (``communities``, expanding), before a case (``before``), reading what the list shows
    (``cases.cards``), newest first, ``limit`` rows; built once per shape."""
    stmt = filtered(shape)
    if communities:
        stmt = stmt.where(Case.community_id.in_(bindparam("communities", expanding=True)))
    if before:
        stmt = stmt.where(Case.id < bindparam("before", type_=Case.id.type))
    stmt = workspace_cards.select_list_rows(stmt)
    return stmt.order_by(Case.id.desc()).limit(bindparam("limit"))


COMMUNITY_MATCHES = 20


def _community_filter(text: str) -> list[Community]:
    """The communities the list's "Community" box names: the one with that code, else those
    whose name holds the text or whose code starts with it."""
    exact = community_by_code(text)
    return [exact] if exact is not None else list(find_communities(text, limit=COMMUNITY_MATCHES))


@bp.get("/cases")
@public
def index():
    # The page's community box takes a name or a code; the API's ``community`` stays a code.
    community_text = request.args.get("community", "").strip()[:50]
    found = case_query({k: v for k, v in request.args.items() if k != "community"})
    if isinstance(found, str):
        abort(400)
    shape, params = found
    communities = _community_filter(community_text) if community_text else []
    if community_text:
        params["communities"] = [c.id for c in communities]
    before = id_arg("before")
    if before:
        params["before"] = before
    params["limit"] = PAGE_SIZE + 1
    # Read exactly what the list shows, in the one statement, as rows (``cases.cards``).
    stmt = _list_statement(shape, bool(community_text), bool(before))
    rows = workspace_cards.list_rows(stmt, params)
    more_url = None
    if len(rows) > PAGE_SIZE:
        args: dict[str, Any] = query_args("before")
        more_url = url_for("cases.index", **args, before=rows[PAGE_SIZE - 1].id)
    loc = current_locale()
    # The filter bar's three option lists in one statement.
    categories, agencies, districts = code_name_lists(_filter_options())
    return render_template(
        "cases/index.html",
        # The Atom feed of the one agency or community the list is narrowed to, if any.
        feed_agency=next((a for a in agencies if a.code == request.args.get("agency")), None),
        feed_community=communities[0]
        if len(communities) == 1 and communities[0].code == community_text
        else None,
        items=workspace_cards.list_views(rows[:PAGE_SIZE]),
        community_text=community_text,
        communities=communities,
        narrow=lambda c: url_for(
            "cases.index",
            **query_args("before") | {"community": c.code},
        ),
        more_url=more_url,
        agencies=agencies,
        categories=categories,
        districts=districts,
        loc=loc,
        args=request.args,
        states=[CodeName(s.value, cases.state_label(s)) for s in CaseState],
        list_table=workspace_cards.list_table,
        state_label=cases.state_label,
    )


@cache
def _by_number() -> Select:
    # Built once, the number bound. The proposal comes joined without its own joins: its
    # community and category are the case's (the session answers them), its author is not
    # shown; joined, they were a hundred more columns read on every view of a case.
    return (
        select(Case)
        .where(Case.number == bindparam("number", type_=Case.number.type))
        .options(
            joinedload(Case.proposal).options(
                lazyload(Proposal.author),
                lazyload(Proposal.community),
                lazyload(Proposal.category),
                with_expression(Proposal.has_photos, proposals.has_photos()),
            )
        )
    )


@cache
def _by_number_with_steps() -> Select:
    # The case page's: the case with its steps, whether it has site photos, and the city's
    # time zone for its dates, in one statement.
    return (
        _by_number()
        .add_columns(city_timezone_column())
        .options(joinedload(Case.events), with_expression(Case.has_photos, cases.has_photos()))
    )


def _load(number: str) -> Case:
    case = db.session.scalar(_by_number(), {"number": number})
    if case is None:
        abort(404)
    return case


def _action_form(case: Case) -> ActionForm:
    form = ActionForm(prefix="act")
    form.agency_code.choices = [SelectChoice("", "—")] + [
        SelectChoice(a.code, a.name(current_locale())) for a in cases.reroute_agencies(case)
    ]
    return form


def _render_case(
    case: Case,
    *,
    events: list | None = None,
    failed: ActionForm | None = None,
    feedback: FeedbackForm | None = None,
    status: int = 200,
):
    """The case page; ``events`` its steps when read with it, ``failed`` an action form sent
    with errors (shown at its fields, with what was typed), ``feedback`` the supporters'
    answer sent with errors."""
    user = current_user
    is_supporter = proposals.has_supported(user, case.proposal)
    answered = cases.has_answered(user, case)
    if events is None:
        events = cases.timeline(case)
    p = case.proposal
    primary, others = cases.split_actions(cases.allowed_actions(user, case))
    signed = user.is_authenticated  # no forms, and so no session, for visitors
    return render_template(
        "cases/show.html",
        case=case,
        events=events,
        steps=cases.steps(case, events),
        deadline=cases.deadline(case),
        # The residents' photos of the place, as the proposal's page shows them to this reader.
        proposal_photos=proposals.photos(p) if proposals.can_view_photos(user, p) else [],
        summary=cases.feedback_summary(case),
        actions=primary + others,
        primary_actions=primary,
        other_actions=others,
        form=signed and _action_form(case),
        failed=failed,
        feedback=feedback or (signed and FeedbackForm(prefix="fb")),
        can_answer=is_supporter and not answered and case.state == CaseState.verifying,
        answered=answered,
        state_label=cases.state_label,
        action_label=cases.action_label,
        close_reason_label=cases.close_reason_label,
        overdue=cases.is_overdue(case),
        photos=cases.photos(case),
        **_page_sections(case),
    ), status


def add_case_page_section(app, section) -> None:
    """What the features above cases add to a case's page (the meetings that put it on their
    agenda): a function of the case giving template variables, added by the app factory."""
    app.extensions.setdefault("case_page_sections", []).append(section)


def _page_sections(case: Case) -> dict:
    found: dict = {}
    for section in current_app.extensions.get("case_page_sections", ()):
        found.update(section(case))
    return found


@bp.get("/cases/<number>")
@public
def show(number: str):
    row = db.session.execute(_by_number_with_steps(), {"number": number}).unique().first()
    if row is None:
        abort(404)
    case, city_timezone = row
    found_city_timezone(city_timezone)
    return _render_case(case, events=cases.steps_read_with(case))


def _local_to_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=ZoneInfo(city_timezone_name())).astimezone(ZoneInfo("UTC"))


# The fields each action's form shows: an error about one of them is shown there.
_ACTION_FIELDS = {"note", "expected_at", "agency_code", "passed", "reason_code", "photos"}


@bp.post("/cases/<number>/actions")
@login_required
def act(number: str):
    case = _load(number)
    form = _action_form(case)
    if not form.validate_on_submit():
        return _render_case(case, failed=form, status=400)
    agency = None
    if form.agency_code.data:
        agency = db.session.scalar(select(Agency).where(Agency.code == form.agency_code.data))
    passed = {"yes": True, "no": False}.get(form.passed.data or "")
    uploads = [f.read() for f in request.files.getlist("act-photos") if f.filename]
    back = request.form.get("back", "")
    if not back.startswith("/") or back.startswith("//"):
        back = url_for("cases.show", number=number)
    user = current_user._get_current_object()
    outcome = act_on_form(
        form,
        lambda: cases.act(
            user,
            case,
            form.action.data,
            note=form.note.data,
            expected_at=_local_to_utc(form.expected_at.data),
            agency=agency,
            passed=passed,
            reason_code=form.reason_code.data or None,
            photos=uploads,
        ),
        done=_("Saved: %(step)s.", step=cases.action_label(form.action.data)),
        then=back,
        # Shown at its field of the action's form, what was typed kept; a refusal about no
        # field (the case moved on meanwhile) is told at the top of the page.
        fields=_ACTION_FIELDS,
    )
    if isinstance(outcome, DomainError):
        return _render_case(_load(number), failed=form, status=outcome.status)
    return outcome


@bp.before_app_request
def _allow_site_photos():
    """The site-check form may carry photos; other requests keep the small default."""
    if request.endpoint == "cases.act" and request.method == "POST":
        request.max_content_length = 4 * MAX_BYTES + 1024 * 1024


@bp.get("/cases/<number>/photos/<id:photo_id>")
@bp.get("/cases/<number>/photos/<id:photo_id>/<any(thumb):size>")
@public
def photo(number: str, photo_id: int, size: str = "full"):
    case = _load(number)
    row = db.session.get(CasePhoto, photo_id)
    if row is None or row.case_id != case.id:
        abort(404)
    return send_image(
        storage_for(current_app),
        row.thumb_name if size == "thumb" else row.name,
        row.content_type,
        private=False,
    )


@bp.post("/cases/<number>/feedback")
@login_required
def feedback(number: str):
    case = _load(number)
    form = FeedbackForm(prefix="fb")
    if form.validate_on_submit():
        user = current_user._get_current_object()
        outcome = act_on_form(
            form,
            lambda: cases.give_feedback(
                user,
                case,
                solved=form.solved.data == "yes",
                satisfaction=int(form.satisfaction.data),
                comment=form.comment.data or "",
            ),
            done=_("Thank you. Your answer is counted; your name is not shown."),
            then=url_for("cases.show", number=number),
        )
        if not isinstance(outcome, DomainError):
            return outcome
    return _render_case(_load(number), feedback=form, status=400)


# --- workspaces ------------------------------------------------------------------------------

WORKSPACE_PAGE = 25


def _workspace_page(stmt, key=None) -> tuple[list[workspace_cards.WorkspaceRow], str | None]:
    """One page of a workspace list and the link to the next, keyset-paginated.

    With ``key`` (a datetime column, nulls last) the list runs oldest key first, then by id;
    without it, newest case first. Only what the cards show is read, as rows: the case, its
    proposal's title (and whether the reader may see it) and its community's name.
    """
    stmt = workspace_cards.select_rows(stmt)
    after = request.args.get("after", "")
    if key is None:
        if after:
            if not re.fullmatch(r"[0-9]{1,10}", after) or not is_id(int(after)):
                abort(400)
            stmt = stmt.where(Case.id < int(after))
        stmt = stmt.order_by(Case.id.desc())
    else:
        if after:
            when_text, _sep, last_id_text = after.rpartition("~")
            try:
                last_id = int(last_id_text) if re.fullmatch(r"[0-9]{1,10}", last_id_text) else 0
                when = datetime.fromisoformat(when_text) if when_text else None
            except ValueError:
                abort(400)
            if not is_id(last_id):
                abort(400)
            if when is None:
                stmt = stmt.where(key.is_(None), Case.id > last_id)
            else:
                if when.tzinfo is None:
                    abort(400)
                stmt = stmt.where(
                    (key > when) | ((key == when) & (Case.id > last_id)) | key.is_(None)
                )
        stmt = stmt.order_by(key.asc().nulls_last(), Case.id)
    rows = workspace_cards.rows(stmt.limit(WORKSPACE_PAGE + 1))
    more = None
    if len(rows) > WORKSPACE_PAGE:
        last = rows[WORKSPACE_PAGE - 1]
        if key is None:
            cursor = str(last.id)
        else:
            value = getattr(last, key.key)
            cursor = f"{value.isoformat() if value else ''}~{last.id}"
        args: dict[str, Any] = query_args("after")
        endpoint = cast(str, request.endpoint)  # a view runs for a matched rule only
        more = url_for(endpoint, **(request.view_args or {}), **args, after=cursor)
    return rows[:WORKSPACE_PAGE], more


def _render_workspace(stmt, key, **context):
    rows, more_url = _workspace_page(stmt, key)
    return render_template(
        "cases/workspace.html",
        items=workspace_cards.views(rows, accept=context["kind"] == "liaison"),
        more_url=more_url,
        **context,
    )


@bp.get("/workspace/agency/<code>")
@login_required
def liaison(code: str):
    agency = db.session.scalar(select(Agency).where(Agency.code == code))
    if agency is None:
        abort(404)
    if not permissions.is_liaison(current_user, agency):
        abort(403)
    tab = request.args.get("tab", "new")
    stmt = cases.liaison_cases(agency, tab)
    if stmt is None:
        abort(404)
    return _render_workspace(
        stmt,
        None if tab == "all" else Case.stage_due_at,
        title=agency.name(current_locale()),
        kind="liaison",
        agency=agency,
        tab=tab,
        tabs=cases.LIAISON_TABS,
    )


@bp.get("/workspace/supervisor/<code>")
@login_required
def supervisor(code: str):
    district = db.session.scalar(select(District).where(District.code == code))
    if district is None:
        abort(404)
    if not permissions.is_supervisor(current_user, district):
        abort(403)
    tab = request.args.get("tab", "returned")
    stmt = cases.supervisor_cases(district, tab)
    if stmt is None:
        abort(404)
    return _render_workspace(
        stmt,
        Case.updated_at,
        title=district.name(current_locale()),
        kind="supervisor",
        district=district,
        tab=tab,
        tabs=cases.SUPERVISOR_TABS,
        residency_waiting=residency.waiting_for_supervisor(district),
    )


@bp.get("/workspace/grid")
@login_required
def grid_worker():
    grants = [g for g in permissions.grants(current_user) if g.role == Role.grid_worker]
    if not grants:
        abort(403)
    return _render_workspace(
        cases.verification_cases(grants),
        Case.stage_due_at,
        title=_("Cases to verify"),
        kind="grid",
        tab="verify",
        tabs=[],
    )


def proposal_page_section(p: Proposal) -> dict:
    """The case part of a proposal's page (``proposals.views.show``): the case it became, the
    deadline that runs now and the case's steps told in the proposal's history."""
    found = cases.case_and_timeline(p)
    if found is None:
        return {"case": None, "case_deadline": None, "case_milestones": []}
    case, events = found
    return {
        "case": case,
        "case_deadline": cases.deadline(case),
        "case_milestones": cases.milestones(case, events, current_locale()),
    }
