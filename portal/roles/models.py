"""Agencies and scoped role grants."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, Enum, ForeignKey, String, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core import clock
from portal.core.types import UTCDateTime
from portal.extensions import Model


def name_in(locale: str, name_zh: str, name_en: str | None) -> str:
    """An agency's name in ``locale`` (``Agency.name``), from its two columns: for lists that
    read rows, not agencies."""
    return name_en if locale == "en" and name_en else name_zh


class Agency(Model):
    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(120))
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"), index=True)
    # An inactive agency (merged, dissolved) takes no new invitations to answer agenda items;
    # what it answered stays, and its cases stay where they are.
    active: Mapped[bool] = mapped_column(default=True, server_default=true())

    district = relationship("District", lazy="select")

    def name(self, locale: str) -> str:
        return name_in(locale, self.name_zh, self.name_en)


class Role(enum.StrEnum):
    committee = "committee"  # scope: community
    grid_worker = "grid_worker"  # scope: grid or community
    liaison = "liaison"  # scope: agency
    supervisor = "supervisor"  # scope: district
    admin = "admin"  # global


class RoleGrant(Model):
    __tablename__ = "role_grants"
    __table_args__ = (
        UniqueConstraint("user_id", "role", "scope_key", name="uq_role_grants_user_role_scope"),
        # Each role carries exactly the scope it needs, and no other.
        CheckConstraint(
            "(role = 'committee' AND community_id IS NOT NULL AND grid_id IS NULL"
            " AND agency_id IS NULL AND district_id IS NULL)"
            " OR (role = 'grid_worker' AND (community_id IS NOT NULL OR grid_id IS NOT NULL)"
            " AND NOT (community_id IS NOT NULL AND grid_id IS NOT NULL)"
            " AND agency_id IS NULL AND district_id IS NULL)"
            " OR (role = 'liaison' AND agency_id IS NOT NULL AND community_id IS NULL"
            " AND grid_id IS NULL AND district_id IS NULL)"
            " OR (role = 'supervisor' AND district_id IS NOT NULL AND community_id IS NULL"
            " AND grid_id IS NULL AND agency_id IS NULL)"
            " OR (role = 'admin' AND community_id IS NULL AND grid_id IS NULL"
            " AND agency_id IS NULL AND district_id IS NULL)",
            name="scope_matches_role",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=20, validate_strings=True, create_constraint=False)
    )
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"), index=True)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id"), index=True)
    # "community:12", "grid:7", "agency:3", "district:1" or "global": unique with user and role.
    scope_key: Mapped[str] = mapped_column(String(40))
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    community = relationship("Community", lazy="joined")
    grid = relationship("Grid", lazy="joined")
    agency = relationship(Agency, lazy="joined")
    district = relationship("District", lazy="joined")

    @property
    def scope_code(self) -> str | None:
        for obj in (self.community, self.grid, self.agency, self.district):
            if obj is not None:
                return obj.code
        return None
