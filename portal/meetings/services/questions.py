"""Residents' questions on an agenda item before the meeting starts, moderated like comments
(they are a report target of deliberation's registry); the committee marks one answered."""

from __future__ import annotations

from sqlalchemy import select

from portal.audit.services import record
from portal.core import clock
from portal.core.i18n import gettext as _
from portal.core.input import clean_text
from portal.deliberation.services import check_not_blocked
from portal.extensions import db
from portal.meetings.models import AgendaItem, Meeting, Question
from portal.meetings.services._common import M, MeetingError, can_run, check_runs, invalid, started
from portal.roles import permissions

MAX_QUESTION = 1000


def can_ask(user, m: Meeting) -> bool:
    """Residents of the meeting's community and its committee ask."""
    if not getattr(user, "is_authenticated", False):
        return False
    return user.community_id == m.community_id or permissions.is_committee(user, m.community)


def ask(user, item: AgendaItem, body: str) -> Question:
    m = item.meeting
    if m.state == M.cancelled:
        raise MeetingError("meeting_cancelled", _("This meeting is cancelled."))
    if m.state != M.published or started(m):
        raise MeetingError("meeting_started", _("The meeting has started; questions are closed."))
    if not can_ask(user, m):
        raise MeetingError(
            "not_allowed", _("Only residents of this community ask questions here."), status=403
        )
    check_not_blocked(user, m.community_id)
    body = (body or "").strip()
    if not body:
        raise invalid("body", _("Write your question."))
    if len(body) > MAX_QUESTION or not clean_text(body):
        raise invalid("body", _("Use at most %(n)d characters.", n=MAX_QUESTION))
    q = Question(
        item_id=item.id, item=item, community_id=m.community_id, author_id=user.id, body=body
    )
    db.session.add(q)
    db.session.flush()
    return q


def mark_answered(user, q: Question) -> None:
    check_runs(user, q.item.meeting)
    if q.answered_at is not None:
        raise MeetingError("already_answered", _("This question is marked answered already."))
    q.answered_at, q.answered_by_id = clock.now(), user.id
    db.session.flush()
    record(user, "meeting.question_answered", q)


def questions_of(items: list[AgendaItem], user) -> dict[int, list[Question]]:
    """The questions of a meeting's items, oldest first; hidden ones stay in their place
    (shown as hidden) for all but their author and the committee, who still read them."""
    ids = [it.id for it in items]
    found: dict[int, list[Question]] = {i: [] for i in ids}
    if not ids:
        return found
    for q in db.session.scalars(
        select(Question).where(Question.item_id.in_(ids)).order_by(Question.id)
    ):
        found[q.item_id].append(q)
    return found


def can_read_question(user, q: Question) -> bool:
    if not q.hidden:
        return True
    return getattr(user, "is_authenticated", False) and (
        user.id == q.author_id or can_run(user, q.item.meeting)
    )
