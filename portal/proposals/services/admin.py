"""Administration of proposals: categories and support rules per community."""

from __future__ import annotations

from sqlalchemy import select

from portal.accounts.models import User
from portal.audit.services import record
from portal.core.i18n import gettext as _
from portal.extensions import db
from portal.places.models import Community
from portal.proposals.models import Category
from portal.proposals.services._common import ProposalError

# --- administration ----------------------------------------------------------------------------


def save_category(
    actor: User,
    category: Category | None,
    *,
    code: str,
    name_zh: str,
    name_en: str,
    icon: str,
    position: int,
    active: bool,
    limits: tuple[int, int, int] | None = None,
) -> Category:
    """Create (category None) or update a category; the code is fixed once created."""
    if category is None:
        if db.session.scalar(select(Category.id).where(Category.code == code)) is not None:
            raise ProposalError(
                "code_taken",
                _("A category with this code already exists."),
                status=400,
                field="code",
            )
        category = Category(code=code)
        db.session.add(category)
    category.name_zh, category.name_en = name_zh.strip(), name_en.strip()
    category.icon, category.position, category.active = icon.strip() or "•", position, active
    if limits is not None:  # working days: respond, handle, verify
        category.response_days, category.handling_days, category.verification_days = limits
    db.session.flush()
    record(actor, "category.save", category, code=category.code, active=active)
    return category


def set_support_rules(
    actor: User, community: Community, *, minimum: int, percent: float, window_days: int
) -> None:
    """Thresholds of proposals opened from now on; open proposals keep their frozen one."""
    before = [community.support_minimum, community.support_percent, community.support_window_days]
    community.support_minimum, community.support_percent = minimum, percent
    community.support_window_days = window_days
    db.session.flush()
    record(
        actor,
        "community.support_rules",
        community,
        before=before,
        after=[minimum, percent, window_days],
    )
