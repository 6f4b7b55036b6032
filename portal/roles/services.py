"""Granting and revoking roles, and managing agencies: admin actions, each audited."""

from __future__ import annotations

from portal.audit.services import record
from portal.core.errors import DomainError
from portal.core.i18n import gettext as _
from portal.extensions import db
from portal.places.models import Community, District, Grid
from portal.roles.models import Agency, Role, RoleGrant
from portal.roles.permissions import forget_grants


class RoleError(DomainError):
    """A role rule said no."""


def resolve_scope(role: Role, scope_code: str | None) -> dict:
    """Map a role and a scope code to the grant's scope columns, or raise RoleError."""
    code = (scope_code or "").strip()
    if role == Role.admin:
        if code:
            raise RoleError("invalid_scope", _("The admin role has no scope."), field="scope_code")
        return {"scope_key": "global"}
    if role == Role.committee:
        obj = db.session.scalar(db.select(Community).where(Community.code == code))
        if obj is None:
            raise RoleError("unknown_scope", _("No community has this code."), field="scope_code")
        return {"community_id": obj.id, "scope_key": f"community:{obj.id}"}
    if role == Role.grid_worker:
        if len(code) == 15:
            grid = db.session.scalar(db.select(Grid).where(Grid.code == code))
            if grid is not None:
                return {"grid_id": grid.id, "scope_key": f"grid:{grid.id}"}
        community = db.session.scalar(db.select(Community).where(Community.code == code))
        if community is not None:
            return {"community_id": community.id, "scope_key": f"community:{community.id}"}
        raise RoleError(
            "unknown_scope", _("No grid or community has this code."), field="scope_code"
        )
    if role == Role.liaison:
        agency = db.session.scalar(db.select(Agency).where(Agency.code == code))
        if agency is None:
            raise RoleError("unknown_scope", _("No agency has this code."), field="scope_code")
        return {"agency_id": agency.id, "scope_key": f"agency:{agency.id}"}
    if role == Role.supervisor:
        district = db.session.scalar(db.select(District).where(District.code == code))
        if district is None:
            raise RoleError("unknown_scope", _("No district has this code."), field="scope_code")
        return {"district_id": district.id, "scope_key": f"district:{district.id}"}
    raise RoleError("invalid_role", _("Unknown role."), field="role")


def grant(actor, user, role: Role, scope_code: str | None) -> RoleGrant:
    scope = resolve_scope(role, scope_code)
    existing = db.session.scalar(
        db.select(RoleGrant).where(
            RoleGrant.user_id == user.id,
            RoleGrant.role == role,
            RoleGrant.scope_key == scope["scope_key"],
        )
    )
    if existing is not None:
        raise RoleError("already_granted", _("This person already has this role."))
    row = RoleGrant(user_id=user.id, role=role, granted_by_id=getattr(actor, "id", None), **scope)
    db.session.add(row)
    db.session.flush()
    record(actor, "role.grant", user, role=role.value, scope=scope["scope_key"])
    forget_grants()
    return row


def revoke(actor, row: RoleGrant) -> None:
    record(actor, "role.revoke", ("users", row.user_id), role=row.role.value, scope=row.scope_key)
    db.session.delete(row)
    db.session.flush()
    forget_grants()


def create_agency(actor, *, code: str, name_zh: str, name_en: str, district: District) -> Agency:
    if db.session.scalar(db.select(Agency).where(Agency.code == code)) is not None:
        raise RoleError("code_taken", _("An agency with this code already exists."), field="code")
    agency = Agency(code=code, name_zh=name_zh, name_en=name_en, district_id=district.id)
    db.session.add(agency)
    db.session.flush()
    record(actor, "agency.create", agency, code=code, district=district.code)
    return agency


def set_agency_active(actor, agency: Agency, active: bool) -> None:
    """Make an agency inactive (it takes no new invitations to answer agenda items) or active
    again; audited."""
    if agency.active == active:
        return
    agency.active = active
    record(actor, "agency.activate" if active else "agency.deactivate", agency, code=agency.code)


def find_agencies(text: str | None, *, also_code: str | None = None, limit: int = 20):
    """Agencies for a picker: every one with ``text`` None, else those whose name holds
    ``text`` or whose code starts with it, up to ``limit``; plus the one coded ``also_code``."""
    from sqlalchemy import or_

    stmt = db.select(Agency).order_by(Agency.code)
    rows: list[Agency] = []
    if text is None:
        rows = list(db.session.scalars(stmt))
    elif text.strip():
        text = text.strip()
        rows = list(
            db.session.scalars(
                stmt.where(
                    or_(
                        Agency.name_zh.icontains(text, autoescape=True),
                        Agency.name_en.icontains(text, autoescape=True),
                        Agency.code.startswith(text.lower(), autoescape=True),
                    )
                ).limit(limit)
            )
        )
    if also_code and all(a.code != also_code for a in rows):
        extra = db.session.scalar(db.select(Agency).where(Agency.code == also_code))
        if extra is not None:
            rows.append(extra)
    return rows
