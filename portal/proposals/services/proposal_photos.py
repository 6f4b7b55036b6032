"""A proposal's photos: listing, who sees them, adding (cleaned) and removing."""

from __future__ import annotations

from functools import cache

from flask import current_app
from sqlalchemy import Exists, Select, bindparam, exists, select

from portal.accounts.models import User
from portal.core.i18n import gettext as _
from portal.extensions import db
from portal.media.images import ImageError, process_images
from portal.media.storage import storage_for
from portal.proposals.models import Proposal, ProposalPhoto
from portal.proposals.services._common import EDITABLE, ProposalError, S
from portal.proposals.services.reading import can_read
from portal.roles import permissions

# --- photos ----------------------------------------------------------------------------------


@cache
def _photos() -> Select:
    # Built once, the proposal bound: every proposal's page reads it.
    proposal_id = bindparam("proposal_id", type_=ProposalPhoto.proposal_id.type)
    return (
        select(ProposalPhoto)
        .where(ProposalPhoto.proposal_id == proposal_id)
        .order_by(ProposalPhoto.position, ProposalPhoto.id)
    )


def has_photos() -> Exists:
    """Whether a proposal has photos, for ``Proposal.has_photos`` (``with_expression``)."""
    return exists().where(ProposalPhoto.proposal_id == Proposal.id)


def photos(p: Proposal) -> list[ProposalPhoto]:
    """The proposal's photos in their order; none asked for when its statement said it has
    none (``has_photos``)."""
    if p.has_photos is False:
        return []
    return list(db.session.scalars(_photos(), {"proposal_id": p.id}))


def can_view_photos(user, p: Proposal) -> bool:
    """Photos of rejected or hidden proposals stay with the author and the committee."""
    if not can_read(user, p):
        return False
    if p.status == S.rejected:
        return getattr(user, "is_authenticated", False) and (
            user.id == p.author_id or permissions.is_committee(user, p.community)
        )
    return True


def add_photos(author: User, p: Proposal, uploads: list[bytes]) -> list[ProposalPhoto]:
    """Check, clean (EXIF/GPS stripped, resized) and store up to the allowed number of photos."""
    if author.id != p.author_id:
        raise ProposalError("not_author", _("Only the author can add photos."), status=403)
    if not uploads:
        return []
    limit = current_app.config["MEDIA_MAX_PHOTOS"]
    existing = photos(p)
    if len(existing) + len(uploads) > limit:
        raise ProposalError(
            "too_many_photos",
            _("A proposal can have at most %(n)d photos.", n=limit),
            status=400,
            field="photos",
        )
    try:
        processed = process_images(uploads)
    except ImageError as err:
        raise ProposalError(err.code, str(err.message), status=400, field="photos") from None
    storage = storage_for(current_app)
    added = []
    for i, img in enumerate(processed, start=len(existing)):
        row = ProposalPhoto(
            proposal_id=p.id,
            content_type=img.content_type,
            width=img.width,
            height=img.height,
            position=i,
            name=storage.save(img.data, img.extension),
            thumb_name=storage.save(img.thumb, img.extension),
        )
        db.session.add(row)
        added.append(row)
    db.session.flush()
    return added


def remove_photo(author: User, p: Proposal, photo: ProposalPhoto) -> tuple[str, str]:
    """Delete the row; returns the file names for the caller to delete after the commit."""
    if author.id != p.author_id or photo.proposal_id != p.id:
        raise ProposalError("not_author", _("Only the author can remove photos."), status=403)
    if p.status not in EDITABLE:
        raise ProposalError(
            "not_editable",
            _("A proposal can be edited only as a draft or when the committee asked for changes."),
        )
    names = (photo.name, photo.thumb_name)
    db.session.delete(photo)
    db.session.flush()
    return names
