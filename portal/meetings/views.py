"""Meeting pages: a community's meetings, the meeting page with the committee's tools, the
meeting form, invitations and answers for liaisons, registration, questions, minutes, and the
calendar files."""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from portal.accounts.forms import EmptyForm
from portal.cases.models import Case
from portal.core import clock
from portal.core.database import discard_changes
from portal.core.errors import field_error, redirect_on_error
from portal.core.guards import login_required, public
from portal.core.i18n import city_timezone_name, current_locale
from portal.core.i18n import gettext as _
from portal.deliberation.forms import ReportForm
from portal.extensions import db
from portal.meetings import bp, ics
from portal.meetings import services as meetings
from portal.meetings.forms import (
    AnswerForm,
    CancelForm,
    InviteForm,
    ItemForm,
    MeetingForm,
    MinutesForm,
    QuestionForm,
)
from portal.meetings.models import AgendaItem, Invitation, Meeting, Question
from portal.places.services import community_by_code
from portal.proposals.models import Proposal
from portal.roles import permissions
from portal.roles.models import Agency


def _user():
    return current_user._get_current_object()


def _community(code: str):
    community = community_by_code(code)
    if community is None:
        abort(404)
    return community


def _load(meeting_id: int) -> Meeting:
    m = db.session.get(Meeting, meeting_id)
    if m is None or not meetings.can_see(current_user, m):
        abort(404)
    return m


def _item(item_id: int) -> AgendaItem:
    item = db.session.get(AgendaItem, item_id)
    if item is None or not meetings.can_see(current_user, item.meeting):
        abort(404)
    return item


def _runs(m: Meeting) -> None:
    if not meetings.can_run(current_user, m):
        abort(403)


def _to_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=ZoneInfo(city_timezone_name())).astimezone(ZoneInfo("UTC"))


def _to_local(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.astimezone(ZoneInfo(city_timezone_name())).replace(tzinfo=None)


def _back(m: Meeting, anchor: str = "") -> str:
    return url_for("meetings.show", meeting_id=m.id) + anchor


# --- public pages ----------------------------------------------------------------------------


@bp.get("/communities/<code>/meetings")
@public
def community_meetings(code: str):
    community = _community(code)
    runs = permissions.is_committee(current_user, community)
    return render_template(
        "meetings/index.html",
        community=community,
        upcoming=meetings.community_meetings(community, past=False, include_drafts=runs),
        past=meetings.community_meetings(community, past=True, include_drafts=runs),
        runs=runs,
        state_label=meetings.state_label,
    )


# An option naming a proposal by its title: people's own words, in whatever language they
# wrote (the language check of pages leaves such text aside, as the ``|user`` filter marks it).
_THEIRS = {"data-user-content": True}


def _item_form(m: Meeting, form: ItemForm | None = None) -> ItemForm:
    form = form or ItemForm(prefix="item")
    proposals = db.session.scalars(
        select(Proposal)
        .where(
            Proposal.community_id == m.community_id,
            Proposal.status.in_(meetings.AGENDA_STATUSES),
            Proposal.hidden.is_(False),
        )
        .order_by(Proposal.id.desc())
        .limit(200)
    )
    form.proposal_id.choices = [SelectChoice("", _("Choose…"))] + [
        SelectChoice(str(p.id), f"#{p.id} {p.title}", render_kw=_THEIRS) for p in proposals
    ]
    cases = db.session.scalars(
        select(Case).where(Case.community_id == m.community_id).order_by(Case.id.desc()).limit(200)
    )
    form.case_number.choices = [SelectChoice("", _("Choose…"))] + [
        SelectChoice(c.number, f"{c.number} {c.proposal.title}", render_kw=_THEIRS) for c in cases
    ]
    return form


def _invite_form(prefix: str, form: InviteForm | None = None) -> InviteForm:
    form = form or InviteForm(prefix=prefix)
    agencies = db.session.scalars(select(Agency).where(Agency.active).order_by(Agency.code))
    form.agency_code.choices = [SelectChoice("", _("Choose…"))] + [
        SelectChoice(a.code, a.name(current_locale())) for a in agencies
    ]
    return form


def _render(m: Meeting, status: int = 200, **forms):
    user = current_user
    runs = meetings.can_run(user, m)
    changeable = runs and (m.state == "draft" or meetings.is_upcoming(m))
    views = meetings.item_views(m, user)
    invite_forms = {}
    if changeable:
        for v in views:
            key = f"inv{v.item.id}"
            invite_forms[v.item.id] = forms.get(key) or _invite_form(key)
    return render_template(
        "meetings/show.html",
        m=m,
        views=views,
        runs=runs,
        changeable=changeable,
        started=meetings.started(m),
        state_key=meetings.state_key(m),
        state_label=meetings.state_label(m),
        counts=meetings.counts(m),
        mine=meetings.registration_of(user, m),
        can_ask=meetings.can_ask(user, m) and meetings.is_upcoming(m),
        item_form=_item_form(m, forms.get("item")) if changeable else None,
        invite_forms=invite_forms,
        question_forms={
            v.item.id: forms.get(f"q{v.item.id}") or QuestionForm(prefix=f"q{v.item.id}")
            for v in views
        },
        button=EmptyForm(),
        invitation_status=meetings.invitation_status,
        decision_label=meetings.decision_label,
        can_read_question=lambda q: meetings.can_read_question(user, q),
        missing=meetings.missing_answers(m) if runs else 0,
        report_form=user.is_authenticated and ReportForm(),
        now=clock.now(),
    ), status


@bp.get("/meetings/<id:meeting_id>")
@public
def show(meeting_id: int):
    return _render(_load(meeting_id))


@bp.get("/meetings/<id:meeting_id>.ics")
@public
def meeting_ics(meeting_id: int):
    m = _load(meeting_id)
    if m.state == "draft":
        abort(404)
    return Response(
        ics.calendar([m]),
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="meeting-{m.id}.ics"'},
    )


@bp.get("/communities/<code>/meetings.ics")
@public
def community_ics(code: str):
    community = _community(code)
    rows = meetings.meetings_between(community, limit=500)
    return Response(
        ics.calendar(rows, name=community.name(current_locale())),
        mimetype="text/calendar",
        headers={"Content-Disposition": f'inline; filename="meetings-{community.code}.ics"'},
    )


# --- the committee ---------------------------------------------------------------------------


def _details(form: MeetingForm) -> meetings.Details:
    return meetings.Details(
        title=form.title.data or "",
        description=form.description.data or "",
        starts_at=_to_utc(form.starts_at.data),  # type: ignore[arg-type]
        ends_at=_to_utc(form.ends_at.data),  # type: ignore[arg-type]
        location=form.location.data or "",
        online_url=form.online_url.data or "",
        capacity=form.capacity.data,
    )


@bp.route("/communities/<code>/meetings/new", methods=["GET", "POST"])
@login_required
def new(code: str):
    community = _community(code)
    if not permissions.is_committee(current_user, community):
        abort(403)
    form = MeetingForm()
    if form.validate_on_submit():
        try:
            m = meetings.create_meeting(_user(), community, _details(form))
        except meetings.MeetingError as err:
            if err.status in (403, 404):
                raise
            discard_changes()
            field_error(form, err, "title")
        else:
            flash(_("Draft saved. Now put items on the agenda."), "success")
            return redirect(url_for("meetings.show", meeting_id=m.id))
    status = 400 if request.method == "POST" else 200
    return render_template("meetings/form.html", form=form, community=community, m=None), status


@bp.route("/meetings/<id:meeting_id>/edit", methods=["GET", "POST"])
@login_required
def edit(meeting_id: int):
    m = _load(meeting_id)
    _runs(m)
    if request.method == "GET":
        form = MeetingForm(
            data={
                "title": m.title,
                "description": m.description,
                "starts_at": _to_local(m.starts_at),
                "ends_at": _to_local(m.ends_at),
                "location": m.location,
                "online_url": m.online_url,
                "capacity": m.capacity,
            }
        )
    else:
        form = MeetingForm()
    if form.validate_on_submit():
        try:
            changed = meetings.update_meeting(_user(), m, _details(form))
        except meetings.MeetingError as err:
            if err.status in (403, 404):
                raise
            discard_changes()
            field_error(form, err, "title")
            m = _load(meeting_id)
        else:
            if changed and m.state == "published":
                flash(
                    _("Saved. Registrants and invited agencies are told what changed."), "success"
                )
            else:
                flash(_("Saved."), "success")
            return redirect(_back(m))
    status = 400 if request.method == "POST" else 200
    return render_template("meetings/form.html", form=form, community=m.community, m=m), status


@bp.post("/meetings/<id:meeting_id>/items")
@login_required
def add_item(meeting_id: int):
    m = _load(meeting_id)
    _runs(m)
    form = _item_form(m, ItemForm(prefix="item"))
    if not form.validate_on_submit():
        return _render(m, 400, item=form)
    kind = form.kind.data
    try:
        item = meetings.add_item(
            _user(),
            m,
            proposal_id=int(form.proposal_id.data)
            if kind == "proposal" and form.proposal_id.data
            else None,
            case_number=(form.case_number.data or None) if kind == "case" else None,
            topic=(form.topic.data or "") if kind == "topic" else None,
            note=form.note.data,
        )
    except meetings.MeetingError as err:
        if err.status in (403, 404):
            raise
        discard_changes()
        field_error(
            form, err, {"proposal": "proposal_id", "case": "case_number"}.get(kind, "topic")
        )
        return _render(_load(meeting_id), err.status, item=form)
    flash(_("Item added to the agenda."), "success")
    return redirect(_back(m, f"#item-{item.id}"))


@bp.post("/meetings/<id:meeting_id>/items/<id:item_id>/move")
@login_required
def move_item(meeting_id: int, item_id: int):
    m = _load(meeting_id)
    _runs(m)
    EmptyForm().validate_on_submit() or abort(400)
    redirect_on_error(_back(m))
    meetings.move_item(_user(), m, item_id, request.form.get("direction", ""))
    return redirect(_back(m, f"#item-{item_id}"))


@bp.post("/meetings/<id:meeting_id>/items/<id:item_id>/remove")
@login_required
def remove_item(meeting_id: int, item_id: int):
    m = _load(meeting_id)
    _runs(m)
    EmptyForm().validate_on_submit() or abort(400)
    redirect_on_error(_back(m))
    meetings.remove_item(_user(), m, item_id)
    flash(_("Item removed from the agenda."), "success")
    return redirect(_back(m, "#agenda-h"))


@bp.post("/agenda-items/<id:item_id>/invitations")
@login_required
def invite(item_id: int):
    item = _item(item_id)
    m = item.meeting
    _runs(m)
    key = f"inv{item.id}"
    form = _invite_form(key, InviteForm(prefix=key))
    if not form.validate_on_submit():
        return _render(m, 400, **{key: form})
    agency = db.session.scalar(select(Agency).where(Agency.code == form.agency_code.data))
    try:
        meetings.invite(_user(), item, agency, _to_utc(form.due_at.data))
    except meetings.MeetingError as err:
        if err.status in (403, 404):
            raise
        discard_changes()
        field_error(form, err, "agency_code")
        return _render(_load(m.id), err.status, **{key: form})
    flash(_("Agency invited to answer in writing."), "success")
    return redirect(_back(m, f"#item-{item.id}"))


@bp.post("/meetings/<id:meeting_id>/publish")
@login_required
def publish(meeting_id: int):
    m = _load(meeting_id)
    _runs(m)
    EmptyForm().validate_on_submit() or abort(400)
    redirect_on_error(_back(m))
    meetings.publish(_user(), m)
    flash(_("Published: the meeting is public and the invited agencies are told."), "success")
    return redirect(_back(m))


@bp.post("/meetings/<id:meeting_id>/archive")
@login_required
def archive(meeting_id: int):
    m = _load(meeting_id)
    _runs(m)
    EmptyForm().validate_on_submit() or abort(400)
    redirect_on_error(_back(m))
    meetings.archive(_user(), m)
    flash(_("Archived."), "success")
    return redirect(_back(m))


@bp.route("/meetings/<id:meeting_id>/cancel", methods=["GET", "POST"])
@login_required
def cancel(meeting_id: int):
    m = _load(meeting_id)
    _runs(m)
    form = CancelForm()
    if form.validate_on_submit():
        redirect_on_error(_back(m))
        try:
            meetings.cancel(_user(), m, form.reason.data)
        except meetings.MeetingError as err:
            if err.field is None:
                raise
            discard_changes()
            field_error(form, err, "reason")
            m = _load(meeting_id)
        else:
            flash(_("The meeting is cancelled; the reason is public."), "success")
            return redirect(_back(m))
    status = 400 if request.method == "POST" else 200
    return render_template("meetings/cancel.html", form=form, m=m), status


@bp.route("/meetings/<id:meeting_id>/minutes", methods=["GET", "POST"])
@login_required
def minutes(meeting_id: int):
    m = _load(meeting_id)
    _runs(m)
    items = list(m.items)
    if request.method == "GET":
        form = MinutesForm(data={"decisions": [{"item_id": str(it.id)} for it in items]})
    else:
        form = MinutesForm()
    if form.validate_on_submit():
        redirect_on_error(_back(m))
        decisions = [
            meetings.DecisionIn(int(d.item_id.data), d.decision.data, d.note.data or "")
            for d in form.decisions
        ]
        try:
            meetings.publish_minutes(_user(), m, form.body.data, decisions)
        except meetings.MeetingError as err:
            if err.field is None:
                raise
            discard_changes()
            field_error(form, err, "body")
            m = _load(meeting_id)
        else:
            flash(_("Minutes and decisions published; the meeting is held."), "success")
            return redirect(_back(m))
    by_id = {it.id: it for it in items}
    rows = [(d, by_id.get(int(d.item_id.data or 0))) for d in form.decisions]
    status = 400 if request.method == "POST" else 200
    return render_template(
        "meetings/minutes.html",
        form=form,
        m=m,
        rows=rows,
        started=meetings.started(m),
        item_title=meetings.item_title,
    ), status


@bp.post("/questions/<id:question_id>/answered")
@login_required
def question_answered(question_id: int):
    q = db.session.get(Question, question_id)
    if q is None or not meetings.can_see(current_user, q.item.meeting):
        abort(404)
    m = q.item.meeting
    _runs(m)
    EmptyForm().validate_on_submit() or abort(400)
    redirect_on_error(_back(m))
    meetings.mark_answered(_user(), q)
    flash(_("Marked answered."), "success")
    return redirect(_back(m, f"#question-{q.id}"))


# --- residents -------------------------------------------------------------------------------


@bp.post("/meetings/<id:meeting_id>/register")
@login_required
def register(meeting_id: int):
    m = _load(meeting_id)
    EmptyForm().validate_on_submit() or abort(400)
    redirect_on_error(_back(m))
    r = meetings.register(_user(), m)
    if r.state == "waitlisted":
        flash(
            _("The meeting is full: you are number %(n)d on the waitlist.", n=r.waitlist_position),
            "success",
        )
    else:
        flash(_("You are registered. Add the meeting to your calendar below."), "success")
    return redirect(_back(m, "#attend-h"))


@bp.post("/meetings/<id:meeting_id>/unregister")
@login_required
def unregister(meeting_id: int):
    m = _load(meeting_id)
    EmptyForm().validate_on_submit() or abort(400)
    redirect_on_error(_back(m))
    meetings.cancel_registration(_user(), m)
    flash(_("Your registration is cancelled."), "success")
    return redirect(_back(m, "#attend-h"))


@bp.post("/agenda-items/<id:item_id>/questions")
@login_required
def ask(item_id: int):
    item = _item(item_id)
    m = item.meeting
    key = f"q{item.id}"
    form = QuestionForm(prefix=key)
    if not form.validate_on_submit():
        return _render(m, 400, **{key: form})
    redirect_on_error(_back(m, f"#item-{item.id}"))
    try:
        q = meetings.ask(_user(), item, form.body.data)
    except meetings.MeetingError as err:
        if err.field is None:
            raise
        discard_changes()
        field_error(form, err, "body")
        return _render(_load(m.id), err.status, **{key: form})
    flash(_("Your question is posted."), "success")
    return redirect(_back(m, f"#question-{q.id}"))


# --- liaisons --------------------------------------------------------------------------------


@bp.get("/workspace/agency/<code>/invitations")
@login_required
def agency_invitations(code: str):
    agency = db.session.scalar(select(Agency).where(Agency.code == code))
    if agency is None:
        abort(404)
    if not permissions.is_liaison(current_user, agency):
        abort(403)
    tab = request.args.get("tab", "open")
    if tab not in ("open", "all"):
        abort(404)
    return render_template(
        "meetings/invitations.html",
        agency=agency,
        tab=tab,
        rows=meetings.agency_invitations(agency, tab),
        invitation_status=meetings.invitation_status,
        item_title=meetings.item_title,
        missed=meetings.missed_by_agency([agency.id]).get(agency.id, 0),
    )


def _invitation(invitation_id: int) -> Invitation:
    inv = db.session.get(Invitation, invitation_id)
    if inv is None or inv.item.meeting.state == "draft":
        abort(404)
    if not meetings.can_answer(current_user, inv):
        abort(403)
    return inv


@bp.route("/invitations/<id:invitation_id>/answer", methods=["GET", "POST"])
@login_required
def answer(invitation_id: int):
    inv = _invitation(invitation_id)
    a = inv.answer
    if request.method == "GET" and a is not None:
        form = AnswerForm(
            data={
                "body": a.body,
                "attendee_role": a.attendee_role,
                "commitments": [{"text": c.text, "due_on": c.due_on} for c in a.commitments],
            }
        )
        while len(form.commitments) < 3:
            form.commitments.append_entry()
    else:
        form = AnswerForm()
    if request.method == "POST" and form.validate_on_submit():
        publish_it = request.form.get("publish") == "1"
        redirect_on_error(url_for("meetings.answer", invitation_id=inv.id))
        commitments = [
            meetings.CommitmentIn(c.text.data, c.due_on.data)
            for c in form.commitments
            if (c.text.data or "").strip() or c.due_on.data
        ]
        try:
            meetings.save_answer(
                _user(),
                inv,
                body=form.body.data,
                commitments=commitments,
                attendee_role=form.attendee_role.data,
                publish=publish_it,
            )
        except meetings.MeetingError as err:
            if err.field is None:
                raise
            discard_changes()
            field_error(form, err, "body")
            inv = _invitation(invitation_id)
        else:
            if publish_it:
                flash(_("Answer published: it shows on the agenda item."), "success")
                return redirect(_back(inv.item.meeting, f"#item-{inv.item_id}"))
            flash(_("Draft saved. It is not public until you publish it."), "success")
            return redirect(url_for("meetings.answer", invitation_id=inv.id))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "meetings/answer.html",
        form=form,
        inv=inv,
        m=inv.item.meeting,
        item_title=meetings.item_title,
        status_key=meetings.invitation_status(inv),
    ), status


# --- what other pages show -------------------------------------------------------------------


def proposal_page_section(p) -> dict:
    """The meetings part of a proposal's page: the public meetings that put it on the agenda,
    with their decision."""
    rows = meetings.meetings_for_subject(proposal_id=p.id)
    # Each decision is also a step of the proposal's own history, as a case's steps are.
    decided = [
        SimpleNamespace(
            created_at=d.created_at,
            milestone=True,
            text=_(
                "Meeting “%(title)s” decided: %(decision)s",
                title=m.title,
                decision=meetings.decision_label(d.outcome),
            ),
        )
        for m, _item, d in rows
        if d is not None
    ]
    return {"proposal_meetings": rows, "meeting_milestones": decided}


def case_page_section(case) -> dict:
    """The meetings part of a case's page (``cases.views.show``)."""
    return {"case_meetings": meetings.meetings_for_subject(case_id=case.id)}


def community_page_section(community) -> dict:
    """The community page's next meetings and the link to all of them."""
    return {"upcoming_meetings": meetings.community_meetings(community, past=False, limit=3)}
