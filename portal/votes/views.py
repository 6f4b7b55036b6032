"""Vote pages: the vote (ballot while open, results after), the committee's form to put an
item to a vote, and a community's votes."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from wtforms import SelectChoice

from portal.core.errors import field_error
from portal.core.guards import login_required, public
from portal.core.i18n import city_timezone_name
from portal.core.i18n import gettext as _
from portal.places.services import community_by_code
from portal.votes import bp
from portal.votes import services as votes
from portal.votes.forms import BallotForm, VoteForm
from portal.votes.limits import ballot_limits
from portal.votes.models import Vote, VoteKind, VoteState


def _local_to_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=ZoneInfo(city_timezone_name())).astimezone(ZoneInfo("UTC"))


def _ballot_form(vote: Vote) -> BallotForm:
    form = BallotForm()
    form.option.choices = [SelectChoice(o.id, votes.option_label(o)) for o in vote.options]
    return form


def _page(vote: Vote, form: BallotForm | None = None, status: int = 200):
    user = current_user
    mine = votes.my_ballot(user, vote)
    form = form or _ballot_form(vote)
    if mine is not None and not form.is_submitted():
        form.option.data = mine
    meeting = vote.item.meeting
    return (
        render_template(
            "votes/show.html",
            vote=vote,
            meeting=meeting,
            item_title=votes.item_title(vote.item),
            eligible=votes.is_elector(user, vote),
            voted=votes.has_voted(user, vote),
            mine=mine,
            form=form,
            can_manage=votes.can_put_to_vote(user, vote.item),
        ),
        status,
    )


@bp.get("/votes/<id:vote_id>")
@public
def show(vote_id: int):
    return _page(votes.get_vote(vote_id, current_user))


@bp.post("/votes/<id:vote_id>/ballot")
@login_required
@ballot_limits
def ballot(vote_id: int):
    vote = votes.get_vote(vote_id, current_user, settled=False)
    form = _ballot_form(vote)
    if not form.validate_on_submit():
        return _page(votes.settle(vote), form, 400)
    try:
        votes.cast_ballot(current_user, vote, form.option.data)
    except votes.VoteError as err:
        if err.status == 404:
            raise
        field_error(form, err, "option")
        return _page(vote, form, err.status)
    flash(_("Your ballot is stored. You can change it until the vote closes."), "success")
    return redirect(url_for("votes.show", vote_id=vote.id))


@bp.route("/agenda-items/<id:item_id>/vote", methods=["GET", "POST"])
@login_required
def new(item_id: int):
    item = votes.get_item(item_id, current_user)
    if not votes.can_put_to_vote(current_user, item):
        abort(403)
    form = VoteForm()
    if form.validate_on_submit():
        kind = form.kind.data or VoteKind.for_against_abstain.value
        try:
            vote = votes.put_to_vote(
                current_user,
                item,
                question=form.question.data or "",
                options=form.labels() if kind == VoteKind.options else None,
                kind=kind,
                opens_at=_local_to_utc(form.opens_at.data),  # type: ignore[arg-type]
                closes_at=_local_to_utc(form.closes_at.data),  # type: ignore[arg-type]
                quorum_percent=form.quorum_percent.data,
            )
        except votes.VoteError as err:
            if err.status in (403, 404):
                raise
            if err.field == "options":  # the six inputs are one answer: told at the first
                form.option_1.errors = [*form.option_1.errors, err.message]
            elif err.status == 400:
                field_error(form, err, "question")
            else:
                flash(err.message, "error")
        else:
            flash(_("The item is put to a vote."), "success")
            return redirect(url_for("votes.show", vote_id=vote.id))
    status = 400 if form.is_submitted() else 200
    return (
        render_template(
            "votes/new.html",
            form=form,
            item=item,
            meeting=item.meeting,
            item_title=votes.item_title(item),
            existing=votes.item_votes(item),
        ),
        status,
    )


@bp.get("/communities/<code>/votes")
@public
def community_list(code: str):
    community = community_by_code(code)
    if community is None:
        abort(404)
    return render_template(
        "votes/list.html",
        community=community,
        rows=votes.community_votes(community, current_user),
        VoteState=VoteState,
    )
