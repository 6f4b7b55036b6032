"""Residency rules: ask to join a community, use an invitation code, decide requests."""

from __future__ import annotations

import math
import secrets
import statistics
from datetime import timedelta

from flask import url_for
from sqlalchemy import func, update

from portal.accounts.models import User
from portal.audit.access import Office, log_views
from portal.audit.services import record
from portal.core import clock
from portal.core.database import rowcount
from portal.core.errors import DomainError
from portal.core.i18n import gettext as _
from portal.extensions import db
from portal.notifications.services import notify
from portal.places.models import Community, Street
from portal.residency.models import (
    InvitationBatch,
    InvitationCode,
    ResidencyRequest,
    ResidencyStatus,
)
from portal.residency.permissions import can_decide_request, left_to_supervisor
from portal.roles import permissions
from portal.roles.models import Role, RoleGrant

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read off paper
CODE_LENGTH = 10
MAX_BATCH = 500
# What a person waiting for the committee is told: the community's recent median when enough
# requests were decided lately, else this aim.
DECISION_DAYS = 3
DECISION_SAMPLE_DAYS = 90
DECISION_SAMPLE_MIN = 5


class ResidencyError(DomainError):
    """A residency rule said no."""


def _names(community: Community) -> dict:
    return {"zh_Hans": community.name_zh, "en": community.name_en}


def pending_request(user: User) -> ResidencyRequest | None:
    return db.session.scalar(
        db.select(ResidencyRequest).where(
            ResidencyRequest.user_id == user.id, ResidencyRequest.status == ResidencyStatus.pending
        )
    )


def latest_request(user: User) -> ResidencyRequest | None:
    return db.session.scalar(
        db.select(ResidencyRequest)
        .where(ResidencyRequest.user_id == user.id)
        .order_by(ResidencyRequest.id.desc())
        .limit(1)
    )


def current_request(user: User) -> ResidencyRequest | None:
    """The request whose address note stands for the person: the pending one, else the one
    that confirmed their residency."""
    req = pending_request(user)
    if req is None and user.community_id is not None:
        req = db.session.scalar(
            db.select(ResidencyRequest)
            .where(
                ResidencyRequest.user_id == user.id,
                ResidencyRequest.community_id == user.community_id,
                ResidencyRequest.status == ResidencyStatus.confirmed,
            )
            .order_by(ResidencyRequest.id.desc())
            .limit(1)
        )
    return req


def correct_address_note(user: User, note: str) -> ResidencyRequest:
    """The resident corrects the address note of their current request (``current_request``):
    the committee sees the corrected note from then on."""
    req = current_request(user)
    if req is None:
        raise ResidencyError(
            "no_request",
            _("You have no residency request or confirmed residency with an address note."),
            status=409,
            field="address_note",
        )
    req.address_note = note.strip()
    db.session.flush()
    return req


def residency_status(user: User) -> tuple[str, Community | None]:
    """none | pending | confirmed | rejected, with the community it concerns."""
    pending = pending_request(user)
    if pending is not None:
        return "pending", pending.community
    if user.community_id is not None:
        return "confirmed", user.community
    latest = latest_request(user)
    if latest is not None and latest.status == ResidencyStatus.rejected:
        return "rejected", latest.community
    return "none", None


def typical_decision_days(community: Community) -> tuple[int, bool]:
    """Whole days (rounded up, at least 1) the community's requests waited for a decision, in
    the median of the last ``DECISION_SAMPLE_DAYS`` days, and True; or ``DECISION_DAYS`` and
    False when too few were decided to go by."""
    since = clock.now() - timedelta(days=DECISION_SAMPLE_DAYS)
    rows = db.session.execute(
        db.select(ResidencyRequest.created_at, ResidencyRequest.decided_at)
        .where(
            ResidencyRequest.community_id == community.id,
            ResidencyRequest.status.in_([ResidencyStatus.confirmed, ResidencyStatus.rejected]),
            ResidencyRequest.decided_at >= since,
        )
        .order_by(ResidencyRequest.decided_at.desc())
        .limit(200)
    ).all()
    waits = [(d - c).total_seconds() for c, d in rows if c and d and d >= c]
    if len(waits) < DECISION_SAMPLE_MIN:
        return DECISION_DAYS, False
    return max(1, math.ceil(statistics.median(waits) / 86400)), True


def withdraw_request(user: User) -> ResidencyRequest:
    """The person takes back their pending request (a wrong community, a change of plan)."""
    req = pending_request(user)
    if req is None:
        raise ResidencyError("no_request", _("You have no request waiting."), status=409)
    req.status = ResidencyStatus.withdrawn
    req.decided_at = clock.now()
    db.session.flush()
    return req


def request_residency(user: User, community: Community, address_note: str) -> ResidencyRequest:
    if user.community_id == community.id:
        raise ResidencyError(
            "already_resident", _("You are already a confirmed resident of this community.")
        )
    current = pending_request(user)
    if current is not None:
        if current.community_id == community.id:
            raise ResidencyError(
                "already_requested", _("You have already asked to join this community.")
            )
        # Moving the request elsewhere: the older one is withdrawn, not left dangling.
        current.status = ResidencyStatus.withdrawn
        current.decided_at = clock.now()
        db.session.flush()
    req = ResidencyRequest(
        user_id=user.id, community_id=community.id, address_note=address_note.strip()
    )
    db.session.add(req)
    db.session.flush()
    # Those who decide it are told: the committee but the asker, else the district supervisors.
    deciders = (
        db.session.scalars(
            db.select(RoleGrant.user_id).where(
                RoleGrant.role == Role.committee,
                RoleGrant.community_id == community.id,
                RoleGrant.user_id != user.id,
            )
        ).all()
        or db.session.scalars(
            db.select(RoleGrant.user_id).where(
                RoleGrant.role == Role.supervisor,
                RoleGrant.district_id == community.street.district_id,
            )
        ).all()
    )
    if deciders:
        notify(
            deciders,
            "residency_requested",
            req,
            url=url_for("residency.queue", code=community.code),
            params={"community": _names(community)},
        )
    return req


def _move_resident(user: User, community: Community) -> None:
    """Make ``community`` the user's one community, keeping both counters exact."""
    if user.community_id is not None and user.community_id != community.id:
        db.session.execute(
            update(Community)
            .where(Community.id == user.community_id)
            .values(confirmed_residents=Community.confirmed_residents - 1)
        )
    if user.community_id != community.id:
        db.session.execute(
            update(Community)
            .where(Community.id == community.id)
            .values(confirmed_residents=Community.confirmed_residents + 1)
        )
        user.community_id = community.id
    db.session.flush()
    db.session.refresh(community)


def staff_office(actor: User, community: Community) -> Office:
    """In which office ``actor`` sees a community's residents: its committee, else the
    district's supervision (the two roles that see residents' details there)."""
    if permissions.is_committee(actor, community):
        return Office("committee", "community", community.code)
    return Office("supervisor", "district", community.district.code)


def log_staff_views(actor: User, community: Community, user_ids, purpose: str) -> None:
    """The residents of ``community`` whose details a page showed ``actor``: one insert
    (``audit.access``), listed to each under "who has seen my data"."""
    log_views(actor, user_ids, staff_office(actor, community), purpose)


def log_queue_view(actor: User, community: Community, requests) -> None:
    """The residents whose name and address note the queue showed ``actor``."""
    log_staff_views(actor, community, [r.user_id for r in requests], "residency_queue")


def check_decider(actor: User, req: ResidencyRequest) -> None:
    """Refuse, with its reason, a person who may not decide this request."""
    if actor.id == req.user_id:
        raise ResidencyError(
            "own_request",
            _(
                "You cannot decide your own residency request. Another committee member of "
                "the community decides it, or the district supervisor where there is none."
            ),
            status=403,
        )
    if not can_decide_request(actor, req):
        raise ResidencyError(
            "forbidden", _("This request is for another person to decide."), status=403
        )


def decide(actor: User, req: ResidencyRequest, decision: str, reason: str | None) -> None:
    check_decider(actor, req)
    role = "committee" if permissions.is_committee(actor, req.community) else "supervisor"
    reason = (reason or "").strip() or None
    if decision not in {"approve", "reject"}:
        raise ResidencyError(
            "invalid_decision", _("Choose approve or reject."), status=400, field="decision"
        )
    if decision == "reject" and not reason:
        raise ResidencyError(
            "reason_required",
            _("Give a reason when rejecting a request."),
            status=400,
            field="reason",
        )
    status = ResidencyStatus.confirmed if decision == "approve" else ResidencyStatus.rejected
    # Conditional update: of two committee members deciding at once, one wins, one gets 409.
    changed = rowcount(
        db.session.execute(
            update(ResidencyRequest)
            .where(
                ResidencyRequest.id == req.id, ResidencyRequest.status == ResidencyStatus.pending
            )
            .values(status=status, reason=reason, decided_by_id=actor.id, decided_at=clock.now())
        )
    )
    if not changed:
        raise ResidencyError("already_decided", _("This request has already been decided."))
    db.session.refresh(req)
    user, community = req.user, req.community
    if status == ResidencyStatus.confirmed:
        _move_resident(user, community)
        notify(
            [user],
            "residency_confirmed",
            req,
            url=url_for("residency.status"),
            params={"community": _names(community)},
        )
    else:
        notify(
            [user],
            "residency_rejected",
            req,
            url=url_for("residency.status"),
            params={"community": _names(community), "reason": reason},
        )
    record(
        actor, f"residency.{decision}", req, user_id=user.id, community=community.code, role=role
    )
    log_views(actor, [user.id], staff_office(actor, community), "residency_decision")


def waiting_for_supervisor(district) -> list[tuple[Community, int]]:
    """The district's communities with pending requests that no committee member but the asker
    could decide, and how many: the supervisor's part of the residency work (no personal data)."""
    rows = db.session.execute(
        db.select(ResidencyRequest.community_id, func.count(ResidencyRequest.id))
        .join(Community, Community.id == ResidencyRequest.community_id)
        .join(Street, Street.id == Community.street_id)
        .where(
            Street.district_id == district.id,
            ResidencyRequest.status == ResidencyStatus.pending,
            left_to_supervisor(),
        )
        .group_by(ResidencyRequest.community_id)
    ).all()
    counts = dict(rows)
    if not counts:
        return []
    communities = db.session.scalars(
        db.select(Community).where(Community.id.in_(counts)).order_by(Community.code)
    ).all()
    return [(c, counts[c.id]) for c in communities]


# --- invitation codes ------------------------------------------------------------------------


def normalize_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def format_code(code: str) -> str:
    return f"{code[:5]}-{code[5:]}"


def create_batch(
    actor: User, community: Community, size: int, label: str, valid_days: int
) -> InvitationBatch:
    if not 1 <= size <= MAX_BATCH:
        raise ResidencyError(
            "invalid_size",
            _("Choose between 1 and %(n)d codes.", n=MAX_BATCH),
            status=400,
            field="size",
        )
    expires = clock.now() + timedelta(days=valid_days)
    batch = InvitationBatch(
        community_id=community.id,
        created_by_id=actor.id,
        size=size,
        label=label.strip(),
        expires_at=expires,
    )
    db.session.add(batch)
    db.session.flush()
    seen: set[str] = set()
    while len(seen) < size:
        seen.add("".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH)))
    db.session.add_all(
        InvitationCode(batch_id=batch.id, community_id=community.id, code=c, expires_at=expires)
        for c in sorted(seen)
    )
    db.session.flush()
    record(actor, "invitations.create", batch, community=community.code, size=size)
    return batch


def use_invitation(user: User, raw_code: str) -> ResidencyRequest:
    code = normalize_code(raw_code)
    inv = db.session.scalar(db.select(InvitationCode).where(InvitationCode.code == code))
    if inv is None:
        raise ResidencyError(
            "invalid_code",
            _("This invitation code is not valid."),
            status=400,
            field="invitation_code",
        )
    if inv.used_at is not None:
        raise ResidencyError(
            "already_used",
            _("This invitation code has already been used."),
            field="invitation_code",
        )
    now = clock.now()
    if inv.expires_at <= now:
        raise ResidencyError(
            "code_expired", _("This invitation code has expired."), field="invitation_code"
        )
    if user.community_id == inv.community_id:
        raise ResidencyError(
            "already_resident", _("You are already a confirmed resident of this community.")
        )
    if permissions.is_committee(user, inv.community):
        # The committee prints the codes: a member's own residency is decided by someone else.
        raise ResidencyError(
            "committee_member",
            _(
                "Committee members cannot confirm themselves with a code of their community. "
                "Ask to join instead: another committee member or the district supervisor "
                "decides it."
            ),
            status=403,
            field="invitation_code",
        )
    claimed = rowcount(
        db.session.execute(
            update(InvitationCode)
            .where(InvitationCode.id == inv.id, InvitationCode.used_at.is_(None))
            .values(used_by_id=user.id, used_at=now)
        )
    )
    if not claimed:
        raise ResidencyError(
            "already_used",
            _("This invitation code has already been used."),
            field="invitation_code",
        )
    current = pending_request(user)
    if current is not None:
        current.status = ResidencyStatus.withdrawn
        current.decided_at = now
        db.session.flush()
    req = ResidencyRequest(
        user_id=user.id,
        community_id=inv.community_id,
        invitation_id=inv.id,
        status=ResidencyStatus.confirmed,
        decided_at=now,
        address_note="",
    )
    db.session.add(req)
    db.session.flush()
    _move_resident(user, inv.community)
    notify(
        [user],
        "residency_confirmed",
        req,
        url=url_for("residency.status"),
        params={"community": _names(inv.community)},
    )
    return req
