"""The committee's desk for a community, and the site's search."""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user

from portal.core import clock
from portal.core.guards import login_required, public
from portal.core.input import id_arg
from portal.desks import bp
from portal.desks import search as finder
from portal.desks.queries import committee_desk
from portal.places.services import community_by_code
from portal.proposals import hooks
from portal.roles import permissions


@bp.get("/communities/<code>/desk")
@login_required
def committee(code: str):
    community = community_by_code(code)
    if community is None:
        abort(404)
    if not permissions.is_committee(current_user, community):
        abort(403)
    desk = committee_desk(current_user, community)
    return render_template("desks/committee.html", community=community, desk=desk)


KINDS = ("all", "proposals", "cases")


@bp.get("/search")
@public
def search():
    raw = request.args.get("q", "")
    kind = request.args.get("kind", "all")
    if kind not in KINDS:
        kind = "all"
    q = finder.normalise(raw)
    context = {"q": q[: finder.MAX_QUERY], "kind": kind, "max_query": finder.MAX_QUERY}
    if not q:
        return render_template("desks/search.html", state="empty", **context)
    if len(q) > finder.MAX_QUERY:
        return render_template("desks/search.html", state="too_long", **context), 400
    number = finder.case_number(q)
    if number is not None:
        found = finder.find_case_number(number)
        if found is not None:
            return redirect(url_for("cases.show", number=found))
        return render_template("desks/search.html", state="no_case", number=number, **context)
    before = id_arg("before")
    limit = finder.PREVIEW if kind == "all" else finder.PAGE
    found_proposals = finder.proposals_matching(q, limit, before) if kind != "cases" else None
    found_cases = finder.cases_matching(q, limit, before) if kind != "proposals" else None
    return render_template(
        "desks/search.html",
        state="results",
        proposals=found_proposals,
        # A proposal that became a case shows the case's stage: one query for the page.
        proposal_cases=hooks.cases_of(found_proposals.items) if found_proposals else {},
        cases=found_cases,
        now=clock.now(),
        **context,
    )
