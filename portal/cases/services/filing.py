"""Filing and dispatching the case of a qualified proposal (on ``proposal_qualified``)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import url_for
from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError

from portal.cases.models import Case, CaseCounter
from portal.cases.services._common import C, CaseError, _due, record_event
from portal.cases.services._telling import _liaisons, _public_audience
from portal.cases.services.queries import case_for_proposal
from portal.cases.services.routing import route
from portal.core import clock
from portal.core.i18n import city_timezone_name
from portal.core.i18n import gettext as _
from portal.extensions import db
from portal.notifications.services import notify
from portal.proposals import signals as proposal_signals
from portal.proposals.models import Proposal

# --- filing ----------------------------------------------------------------------------------


def _next_sequence(community_id: int, year: int) -> int:
    """Bump the per-community, per-year counter under its row lock (created on first use)."""
    bumped = db.session.execute(
        update(CaseCounter)
        .where(CaseCounter.community_id == community_id, CaseCounter.year == year)
        .values(last=CaseCounter.last + 1)
        .returning(CaseCounter.last)
    ).scalar()
    if bumped is not None:
        return bumped
    try:
        with db.session.begin_nested():
            db.session.execute(
                insert(CaseCounter).values(community_id=community_id, year=year, last=1)
            )
        return 1
    except IntegrityError:  # another filing created the row first; bump it instead
        return db.session.execute(
            update(CaseCounter)
            .where(CaseCounter.community_id == community_id, CaseCounter.year == year)
            .values(last=CaseCounter.last + 1)
            .returning(CaseCounter.last)
        ).scalar_one()


def file_case(p: Proposal) -> Case:
    """File and dispatch the case of the qualified ``p`` (on ``proposal_qualified``, inside the
    transaction that qualified it or a retry's). The unique constraint on proposal_id makes a
    second filing impossible."""
    community = p.community
    agency = route(p.category, community)
    if agency is None:
        raise CaseError(
            "no_route",
            _(
                "No routing rule for category “%(category)s” in community “%(community)s”, and"
                " no fallback agency for its district.",
                category=p.category.code,
                community=community.code,
            ),
        )
    now = clock.now()
    year = now.astimezone(ZoneInfo(city_timezone_name())).year
    seq = _next_sequence(community.id, year)
    case = Case(
        number=f"{community.code}-{year}-{seq:05d}",
        proposal_id=p.id,
        community_id=community.id,
        year=year,
        sequence=seq,
        category_id=p.category_id,
        grid_id=p.grid_id,
        agency_id=agency.id,
        state=C.dispatched,
        filed_at=now,
        dispatched_at=now,
        updated_at=now,
        handling_due_at=_due(now, p.category.handling_days),
        stage_due_at=_due(now, p.category.response_days),
    )
    db.session.add(case)
    db.session.flush()
    record_event(case, "file", None, "system")
    record_event(case, "dispatch", None, "system")
    db.session.flush()
    url = url_for("cases.show", number=case.number)
    params = {"number": case.number, "title": p.title}
    # The agency in both languages: the text is rendered in each reader's when read.
    dispatched = {**params, "agency": {"zh_Hans": agency.name("zh_Hans"), "en": agency.name("en")}}
    notify(_public_audience(case), "case_dispatched", case, url=url, params=dispatched)
    notify(_liaisons(agency), "case_assigned", case, url=url, params=params)
    return case


def _file_on_qualified(proposal: Proposal, **_extra) -> None:
    """``proposal_qualified`` is sent again by each retry while the proposal waits to be filed:
    a case filed already is left alone."""
    if case_for_proposal(proposal) is None:
        file_case(proposal)


def install(app) -> None:
    """Subscribe cases to the domain events of the features below it (``create_app`` calls
    this; importing this module connects nothing). Connecting twice is connecting once."""
    proposal_signals.proposal_qualified.connect(_file_on_qualified)
