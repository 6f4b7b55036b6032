"""Who is told of a case's steps, and telling them."""

from __future__ import annotations

from flask import url_for
from sqlalchemy import select

from portal.cases.models import Case
from portal.cases.services.labels import step_label
from portal.extensions import db
from portal.notifications.services import notify
from portal.proposals.models import Support
from portal.roles.models import Agency, Role, RoleGrant

# --- who is told -----------------------------------------------------------------------------


def _public_audience(case: Case) -> list[int]:
    """The author and everyone who supported the proposal (ids only; never shown)."""
    ids = set(
        db.session.scalars(select(Support.user_id).where(Support.proposal_id == case.proposal_id))
    )
    ids.add(case.proposal.author_id)
    return sorted(ids)


def _liaisons(agency: Agency) -> list[int]:
    return list(
        db.session.scalars(
            select(RoleGrant.user_id).where(
                RoleGrant.role == Role.liaison, RoleGrant.agency_id == agency.id
            )
        )
    )


def _supervisors(case: Case) -> list[int]:
    return list(
        db.session.scalars(
            select(RoleGrant.user_id).where(
                RoleGrant.role == Role.supervisor,
                RoleGrant.district_id == case.community.street.district_id,
            )
        )
    )


def _tell(case: Case, action: str, public_step: bool) -> None:
    url = url_for("cases.show", number=case.number)
    params = {
        "number": case.number,
        "step": {"zh_Hans": step_label(action, "zh_Hans"), "en": step_label(action, "en")},
    }
    if public_step:
        notify(_public_audience(case), "case_step", case, url=url, params=params)
    if action == "resolve":
        notify(_public_audience(case), "case_feedback_wanted", case, url=url, params=params)
    if action in ("return", "request_extension"):
        notify(_supervisors(case), "case_step", case, url=url, params=params)
    if action == "reroute":
        notify(
            _liaisons(case.agency),
            "case_assigned",
            case,
            url=url,
            params={"number": case.number, "title": case.proposal.title},
        )
