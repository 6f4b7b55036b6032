"""The resident's copy of their data, the deletion of an account, and re-authentication.

Deletion keeps the ``users`` row as a tombstone, with every personal field erased: supports,
ballots, electors and feedback point at it, so counts, thresholds, turnouts and satisfaction
stay true. The number's keyed HMAC (``users.phone_hmac``) stays on the tombstone: the support
rule (``proposals.services.eligibility``) refuses an account whose number took part already as
a deleted one. Public contributions stay, under "former resident" (``User.public_name``)."""

from __future__ import annotations

from sqlalchemy import delete, or_, select, update

from portal.accounts import phones
from portal.accounts.models import (
    ApiToken,
    RecoveryCode,
    SmsCode,
    SmsNumber,
    User,
    UserSession,
    WechatLinkToken,
)
from portal.accounts.passwords import dummy_hash, verify_password
from portal.audit.models import AccessEntry
from portal.audit.services import record
from portal.blocks.models import Block
from portal.cases.models import CaseFeedback
from portal.core import clock
from portal.core.api import iso
from portal.core.errors import DomainError
from portal.core.i18n import gettext as _
from portal.deliberation.models import Appeal, Comment, Report
from portal.extensions import db
from portal.meetings import services as meetings
from portal.meetings.models import Meeting, MeetingState, Question, Registration
from portal.notifications.models import Notification, OutboxMessage
from portal.places.models import Community, District
from portal.proposals.models import Proposal, ProposalPhoto, Support
from portal.residency.models import ResidencyRequest
from portal.roles import permissions
from portal.votes.models import Ballot, Elector, Vote, VoteOption, VoteState


class PrivacyError(DomainError):
    pass


# --- re-authentication -----------------------------------------------------------------------


def reauthentication_required() -> PrivacyError:
    return PrivacyError(
        "reauthentication_required",
        _("To delete your account, enter a new code sent to your number, or your password."),
        status=401,
        field="code",
    )


def send_reauth_code(user: User, ip: str, locale: str) -> phones.Sent:
    """A code to the account's own number, good only for re-authenticating this account."""
    if user.phone is None:
        raise PrivacyError(
            "no_phone", _("This account has no mobile number: use your password."), status=400
        )
    return phones.send_code(user.phone, ip, purpose=phones.REAUTH, user=user, locale=locale)


def reauthenticate(user: User, *, code: str | None, password: str | None) -> None:
    """Prove, now, that the person is the account's owner: a fresh SMS code sent to its
    number for this purpose (spent here), or its password. Raises 401
    ``reauthentication_required`` with neither, ``invalid_code`` or ``invalid_password``
    when wrong (a wrong code counts against it: the caller keeps that on error)."""
    if code:
        row = None
        if user.phone is not None:
            row = phones.check_code(user.phone, code, purpose=phones.REAUTH, user=user)
        if row is None:
            raise phones.invalid_code()
        phones.use_code(row)
        return
    if password:
        ok = verify_password(user.password_hash or dummy_hash(), password)
        if not ok or user.password_hash is None:
            raise PrivacyError(
                "invalid_password",
                _("This password is not correct."),
                status=401,
                field="password",
            )
        return
    raise reauthentication_required()


# --- deletion --------------------------------------------------------------------------------


def erase_account(user: User) -> list[str]:
    """Delete the account now: personal data erased, the row kept as a tombstone. Staff must
    have had their roles revoked first (``staff_roles_held``). Returns the stored photo files
    to remove once the transaction is committed (the caller's ``after_commit``)."""
    if user.erased_at is not None:
        raise PrivacyError("already_deleted", _("This account is deleted already."), status=410)
    if permissions.grants(user):
        raise PrivacyError(
            "staff_roles_held",
            _(
                "This account holds staff roles. An administrator must revoke them before the "
                "account can be deleted, so that no office is left without its holder unseen."
            ),
            status=409,
        )
    uid, phone, email = user.id, user.phone, user.email
    if phone is not None and user.phone_hmac is None:
        user.phone_hmac = phones.number_hmac(phone)  # accounts older than the HMAC column
    # Residency: leave the community, keeping its resident count exact.
    if user.community_id is not None:
        db.session.execute(
            update(Community)
            .where(Community.id == user.community_id)
            .values(confirmed_residents=Community.confirmed_residents - 1)
        )
    db.session.execute(delete(ResidencyRequest).where(ResidencyRequest.user_id == uid))
    # Places at meetings still to come go to the next on the waitlist (the meetings' own rule).
    upcoming = db.session.scalars(
        select(Meeting)
        .join(Registration, Registration.meeting_id == Meeting.id)
        .where(Registration.user_id == uid, Meeting.state == MeetingState.published)
    ).all()
    for m in upcoming:
        if not meetings.started(m):
            meetings.cancel_registration(user, m)
    # Sign-in state, messages and codes.
    db.session.execute(delete(UserSession).where(UserSession.user_id == uid))
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == uid))
    db.session.execute(delete(ApiToken).where(ApiToken.user_id == uid))
    db.session.execute(delete(Notification).where(Notification.user_id == uid))
    to = [a for a in (phone, email) if a]
    outbox = OutboxMessage.user_id == uid
    db.session.execute(
        delete(OutboxMessage).where(or_(outbox, OutboxMessage.to_address.in_(to)) if to else outbox)
    )
    db.session.execute(delete(SmsCode).where(SmsCode.user_id == uid))
    if phone is not None:
        db.session.execute(delete(SmsCode).where(SmsCode.phone == phone))
        db.session.execute(delete(SmsNumber).where(SmsNumber.phone == phone))
    if user.wechat_openid is not None:
        db.session.execute(
            delete(WechatLinkToken).where(WechatLinkToken.openid == user.wechat_openid)
        )
    db.session.execute(delete(AccessEntry).where(AccessEntry.resident_id == uid))
    db.session.execute(delete(Block).where(Block.user_id == uid))
    # What the person wrote for staff alone goes; what counts stays, without their words.
    db.session.execute(delete(Appeal).where(Appeal.appellant_id == uid))
    db.session.execute(update(Report).where(Report.reporter_id == uid).values(note=""))
    db.session.execute(update(CaseFeedback).where(CaseFeedback.user_id == uid).values(comment=""))
    # Photos of their proposals: rows now, files after the commit.
    photos = db.session.execute(
        select(ProposalPhoto.id, ProposalPhoto.name, ProposalPhoto.thumb_name)
        .join(Proposal, Proposal.id == ProposalPhoto.proposal_id)
        .where(Proposal.author_id == uid)
    ).all()
    if photos:
        gone = [p[0] for p in photos]
        db.session.execute(delete(ProposalPhoto).where(ProposalPhoto.id.in_(gone)))
    files = [name for _id, *names in photos for name in names]
    # The tombstone.
    user.email = None
    user.phone = None
    user.phone_verified_at = None
    user.wechat_openid = None
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    user.email_confirmed_at = None
    user.password_hash = None
    user.display_name = ""
    user.privacy_version = None
    user.privacy_accepted_at = None
    user.community_id = None
    user.session_version = (user.session_version or 1) + 1
    user.erased_at = clock.now()
    db.session.flush()
    permissions.forget_grants()
    record(user, "account.deleted", ("users", uid))
    return files


# --- the resident's copy ---------------------------------------------------------------------


def _rows(stmt) -> list:
    return list(db.session.scalars(stmt))


def export_data(user: User) -> dict:
    """Everything the platform keeps about ``user``, as plain JSON."""
    uid = user.id
    community = db.session.get(Community, user.community_id) if user.community_id else None
    account = {
        "id": uid,
        "display_name": user.display_name,
        "email": user.email,
        "email_confirmed_at": iso(user.email_confirmed_at),
        "phone": user.phone,
        "phone_verified_at": iso(user.phone_verified_at),
        "wechat_linked": user.wechat_openid is not None,
        "locale": user.locale,
        "display_mode": user.display_mode,
        "community_code": community.code if community else None,
        "created_at": iso(user.created_at),
        "has_password": user.password_hash is not None,
    }
    consents = []
    if user.privacy_version:
        consents.append(
            {"notice_version": user.privacy_version, "accepted_at": iso(user.privacy_accepted_at)}
        )
    residency = [
        {
            "community_code": r.community.code,
            "address_note": r.address_note,
            "status": r.status.value,
            "reason": r.reason,
            "created_at": iso(r.created_at),
            "decided_at": iso(r.decided_at),
        }
        for r in _rows(
            select(ResidencyRequest)
            .where(ResidencyRequest.user_id == uid)
            .order_by(ResidencyRequest.id)
        )
    ]
    proposals = [
        {
            "id": p.id,
            "title": p.title,
            "summary": p.summary,
            "body": p.body,
            "location_note": p.location_note,
            "status": p.status.value,
            "support_count": p.support_count,
            "created_at": iso(p.created_at),
        }
        for p in _rows(select(Proposal).where(Proposal.author_id == uid).order_by(Proposal.id))
    ]
    comments = [
        {
            "id": c.id,
            "proposal_id": c.proposal_id,
            "parent_id": c.parent_id,
            "stance": c.stance,
            "body": c.body,
            "created_at": iso(c.created_at),
            "edited_at": iso(c.edited_at),
            "deleted_at": iso(c.deleted_at),
            "hidden": c.hidden,
        }
        for c in _rows(select(Comment).where(Comment.author_id == uid).order_by(Comment.id))
    ]
    supports = [
        {"proposal_id": s.proposal_id, "created_at": iso(s.created_at)}
        for s in _rows(select(Support).where(Support.user_id == uid).order_by(Support.id))
    ]
    open_ballots = [
        {"vote_id": vote_id, "question": question, "option": label or key}
        for vote_id, question, label, key in db.session.execute(
            select(Ballot.vote_id, Vote.question, VoteOption.label, VoteOption.key)
            .join(Vote, Vote.id == Ballot.vote_id)
            .join(VoteOption, VoteOption.id == Ballot.option_id)
            .where(Ballot.user_id == uid)
            .order_by(Ballot.vote_id)
        )
    ]
    # A closed vote keeps no ballot: only that the person voted.
    closed_votes = [
        {"vote_id": vote_id, "question": question, "voted": True}
        for vote_id, question in db.session.execute(
            select(Vote.id, Vote.question)
            .join(Elector, Elector.vote_id == Vote.id)
            .where(Elector.user_id == uid, Elector.voted, Vote.state == VoteState.closed.value)
            .order_by(Vote.id)
        )
    ]
    feedback = [
        {
            "case_id": f.case_id,
            "round": f.round,
            "solved": f.solved,
            "satisfaction": f.satisfaction,
            "comment": f.comment,
            "created_at": iso(f.created_at),
        }
        for f in _rows(select(CaseFeedback).where(CaseFeedback.user_id == uid))
    ]
    reports = [
        {
            "target_type": r.target_type,
            "target_id": r.target_id,
            "reason": r.reason,
            "note": r.note,
            "created_at": iso(r.created_at),
        }
        for r in _rows(select(Report).where(Report.reporter_id == uid).order_by(Report.id))
    ]
    questions = [
        {"id": q.id, "item_id": q.item_id, "body": q.body, "created_at": iso(q.created_at)}
        for q in _rows(select(Question).where(Question.author_id == uid).order_by(Question.id))
    ]
    registrations = [
        {"meeting_id": r.meeting_id, "state": r.state, "created_at": iso(r.created_at)}
        for r in _rows(select(Registration).where(Registration.user_id == uid))
    ]
    notifications = [
        {
            "type": n.type,
            "subject_type": n.subject_type,
            "subject_id": n.subject_id,
            "created_at": iso(n.created_at),
            "read_at": iso(n.read_at),
        }
        for n in _rows(
            select(Notification).where(Notification.user_id == uid).order_by(Notification.id)
        )
    ]
    return {
        "format": "commons-export/1",
        "exported_at": iso(clock.now()),
        "account": account,
        "consents": consents,
        "residency_requests": residency,
        "proposals": proposals,
        "comments": comments,
        "supports": supports,
        "open_ballots": open_ballots,
        "closed_votes": closed_votes,
        "case_feedback": feedback,
        "reports": reports,
        "meeting_questions": questions,
        "meeting_registrations": registrations,
        "notifications": notifications,
        "access_log": _access_log(user),
    }


def _access_log(user: User) -> list[dict]:
    entries = access_entries(user)
    names = organisations(entries, user.locale)
    return [access_item(e, names) for e in entries]


# --- who has seen my data --------------------------------------------------------------------


def _access_stmt(user: User):
    return (
        select(AccessEntry)
        .where(AccessEntry.resident_id == user.id)
        .order_by(AccessEntry.id.desc())
    )


ACCESS_PAGE = 50


def access_page(user: User):
    """The page of the access log the request asks for (``?page=``), newest first."""
    return db.paginate(_access_stmt(user), per_page=ACCESS_PAGE, error_out=False)


def access_entries(user: User, limit: int | None = None, before_id: int | None = None) -> list:
    stmt = _access_stmt(user)
    if before_id is not None:
        stmt = stmt.where(AccessEntry.id < before_id)
    if limit is not None:
        stmt = stmt.limit(limit)
    return _rows(stmt)


def organisations(entries, locale: str) -> dict[tuple[str, str], str]:
    """The names of the offices that looked (a community's committee, a district's
    supervision), in ``locale``: one query per kind of office present."""
    names: dict[tuple[str, str], str] = {}

    def codes(kind: str) -> set[str]:
        return {e.scope_code for e in entries if e.scope_type == kind and e.scope_code}

    if wanted := codes("community"):
        for c in db.session.scalars(select(Community).where(Community.code.in_(wanted))):
            names[("community", c.code)] = c.name(locale)
    if wanted := codes("district"):
        for d in db.session.scalars(select(District).where(District.code.in_(wanted))):
            names[("district", d.code)] = d.name(locale)
    return names


def access_item(e: AccessEntry, names: dict[tuple[str, str], str] | None = None) -> dict:
    return {
        "id": e.id,
        "role": e.role,
        "scope_type": e.scope_type,
        "scope_code": e.scope_code,
        "organisation": (names or {}).get((e.scope_type, e.scope_code)),
        "purpose": e.purpose,
        "at": iso(e.created_at),
    }
