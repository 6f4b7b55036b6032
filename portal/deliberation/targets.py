"""What may be reported and moderated: one registry of target kinds.

Reports, automatic hiding, the moderation queue, the public log and appeals work on any kind
registered here; each kind says how to find its rows, its community, where it is shown, what
the person deciding reads and who may see it. Proposals and comments are deliberation's own;
a feature above (meetings' questions) registers its kind from ``create_app`` and joins the
queue without copying its code. Each moderated model carries the same moderation columns
(``hidden``, ``hidden_auto``, ``hidden_reason``, ``hidden_note``, ``hidden_at``,
``report_count``) and an ``author_id`` with its ``author``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from flask import url_for
from sqlalchemy import Select, bindparam, select

from portal.accounts.models import User, public_name
from portal.core.i18n import current_locale
from portal.deliberation.models import Comment
from portal.extensions import db
from portal.proposals import services as proposals
from portal.proposals.models import Proposal


@dataclass(frozen=True)
class TargetKind:
    name: str  # stored in reports.target_type and moderation_actions.target_type (≤ 10)
    model: type
    noun_zh: str  # "评论" / "comment": in both languages, for notifications read later
    noun_en: str
    community_id: Callable[[Any], int]
    url: Callable[[Any], str]  # where the item is shown
    text: Callable[[Any], str]  # what the committee or the appeal's decider reads
    visible: Callable[[Any, Any], bool] = lambda _user, _obj: True  # may ``user`` report it
    # A page of the queue loads its targets of this kind in one query: each target (an object,
    # or a row of ``id``, ``hidden``, ``hidden_auto``, ``author_id`` and what ``url`` and
    # ``text`` read) with its author's public name.
    load: Callable[[list[int]], Iterable[tuple[Any, str]]] | None = None

    def label(self) -> dict:
        return {"zh_Hans": self.noun_zh, "en": self.noun_en}

    def rows(self, ids: set[int]) -> Iterable[tuple[Any, str]]:
        """The targets ``ids`` of this kind, each with its author's public name."""
        if self.load is not None:
            return self.load(sorted(ids))
        found: Iterable[Any] = db.session.scalars(
            select(self.model).where(self.model.id.in_(ids))  # type: ignore[attr-defined]
        )
        return ((obj, obj.author.public_name) for obj in found)


_KINDS: dict[str, TargetKind] = {}


def register(kind: TargetKind) -> None:
    """Add a kind (registering one twice keeps the last)."""
    _KINDS[kind.name] = kind


def get(name: str) -> TargetKind | None:
    return _KINDS.get(name)


def of(obj) -> TargetKind:
    for kind in _KINDS.values():
        if isinstance(obj, kind.model):
            return kind
    raise LookupError(f"no report target kind for {type(obj).__name__}")


def names() -> tuple[str, ...]:
    return tuple(_KINDS)


def noun(name: str) -> str:
    kind = _KINDS.get(name)
    if kind is None:
        return name
    return kind.noun_en if current_locale() == "en" else kind.noun_zh


# The queue's cards read rows of the columns they show, not objects: a proposal's text and HTML
# (up to kilobytes) stay in the database, and a row costs a fraction of an object's loading.
@cache
def _proposal_rows() -> Select:
    return (
        select(
            Proposal.id,
            Proposal.title,
            Proposal.summary,
            Proposal.hidden,
            Proposal.hidden_auto,
            Proposal.author_id,
            User.display_name,
            User.erased_at,
        )
        .join(User, User.id == Proposal.author_id)
        .where(Proposal.id.in_(bindparam("ids", expanding=True)))
    )


@cache
def _comment_rows() -> Select:
    return (
        select(
            Comment.id,
            Comment.proposal_id,
            Comment.body,
            Comment.hidden,
            Comment.hidden_auto,
            Comment.author_id,
            User.display_name,
            User.erased_at,
        )
        .join(User, User.id == Comment.author_id)
        .where(Comment.id.in_(bindparam("ids", expanding=True)))
    )


def _with_names(stmt: Select, ids: list[int]) -> list[tuple[Any, str]]:
    """The rows of ``stmt`` for ``ids``, each with its author's public name (the last two
    columns), run on the session's connection (flushed first, as a query would flush)."""
    db.session.flush()
    rows = db.session.connection().execute(stmt, {"ids": ids})
    return [(row, public_name(row.display_name, row.erased_at)) for row in rows]


def _comment_community(c: Comment) -> int:
    return db.session.get_one(Proposal, c.proposal_id).community_id


register(
    TargetKind(
        name="proposal",
        model=Proposal,
        noun_zh="提议",
        noun_en="proposal",
        community_id=lambda p: p.community_id,
        url=lambda p: url_for("proposals.show", proposal_id=p.id),
        text=lambda p: f"{p.title} — {p.summary}",
        visible=lambda user, p: proposals.is_visible(user, p),
        load=lambda ids: _with_names(_proposal_rows(), ids),
    )
)
register(
    TargetKind(
        name="comment",
        model=Comment,
        noun_zh="评论",
        noun_en="comment",
        community_id=_comment_community,
        url=lambda c: url_for("proposals.show", proposal_id=c.proposal_id) + f"#comment-{c.id}",
        text=lambda c: c.body,
        load=lambda ids: _with_names(_comment_rows(), ids),
    )
)
