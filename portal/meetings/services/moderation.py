"""Questions join deliberation's moderation (reports, automatic hiding, the queue, the public
log, appeals) as one more kind of its registry of report targets."""

from __future__ import annotations

from flask import url_for

from portal.deliberation import targets
from portal.meetings.models import Question
from portal.meetings.services._common import can_see


def _url(q: Question) -> str:
    return url_for("meetings.show", meeting_id=q.item.meeting_id) + f"#question-{q.id}"


QUESTION = targets.TargetKind(
    name="question",
    model=Question,
    noun_zh="提问",
    noun_en="question",
    community_id=lambda q: q.community_id,
    url=_url,
    text=lambda q: q.body,
    visible=lambda user, q: can_see(user, q.item.meeting),
)


def install(app) -> None:
    """Called by ``create_app``: questions become a report target (registering twice keeps
    one)."""
    targets.register(QUESTION)
