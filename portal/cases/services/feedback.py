"""Verification feedback: supporters answer whether the case is solved."""

from __future__ import annotations

from functools import cache
from typing import cast

from sqlalchemy import Select, Table, bindparam, func, select

from portal.accounts.models import User
from portal.cases.models import Case, CaseFeedback
from portal.cases.services._common import C, CaseError
from portal.core.database import read
from portal.core.i18n import gettext as _
from portal.extensions import db
from portal.proposals.models import Support

# --- verification feedback -------------------------------------------------------------------


def give_feedback(
    user: User, case: Case, *, solved: bool, satisfaction: int, comment: str = ""
) -> CaseFeedback:
    if case.state != C.verifying:
        raise CaseError(
            "not_verifying", _("Feedback is asked for while the case is being verified.")
        )
    supported = db.session.scalar(
        select(Support.id).where(
            Support.proposal_id == case.proposal_id, Support.user_id == user.id
        )
    )
    if supported is None:
        raise CaseError(
            "not_a_supporter", _("Only residents who supported the proposal answer."), status=403
        )
    if not 1 <= satisfaction <= 5:
        raise CaseError(
            "invalid_satisfaction", _("Choose 1 to 5."), status=400, field="satisfaction"
        )
    if has_answered(user, case):
        raise CaseError("already_answered", _("You have already answered."))
    fb = CaseFeedback(
        case_id=case.id,
        user_id=user.id,
        round=case.reopen_count,
        solved=solved,
        satisfaction=satisfaction,
        comment=(comment or "").strip()[:500],
    )
    db.session.add(fb)
    db.session.flush()
    return fb


def has_answered(user, case: Case) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return (
        db.session.scalar(
            select(CaseFeedback.id).where(
                CaseFeedback.case_id == case.id, CaseFeedback.user_id == user.id
            )
        )
        is not None
    )


@cache
def _summary(by_round: bool) -> Select:
    # Built once, the case (and round) bound, on the table's columns: every case's page asks.
    t = cast(Table, CaseFeedback.__table__)
    stmt = select(
        func.count().filter(t.c.solved.is_(True)),
        func.count().filter(t.c.solved.is_(False)),
        func.avg(t.c.satisfaction),
    ).where(t.c.case_id == bindparam("case_id", type_=t.c.case_id.type))
    if by_round:
        stmt = stmt.where(t.c.round == bindparam("round", type_=t.c.round.type))
    return stmt


def feedback_summary(case: Case, round_: int | None = None) -> dict:
    params = {"case_id": case.id, "round": round_}
    yes, no, avg = read(_summary(round_ is not None), params).one()
    return {
        "solved_yes": yes or 0,
        "solved_no": no or 0,
        "satisfaction_avg": round(float(avg), 2) if avg is not None else None,
    }
