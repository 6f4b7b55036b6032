"""staff second factor: TOTP secrets, recovery codes, and which sessions and tokens passed it

Revision ID: 0026_staff_mfa
Revises: 0025_data_rights
Create Date: 2026-12-07 04:00:00

Sessions also keep a short description of their device and a truncated address, for the
account's list of sessions. Existing sessions and tokens have not passed the second step:
staff sign in again (and enrol) once.
"""

import sqlalchemy as sa
from alembic import op

from portal.core.types import UTCDateTime

# revision identifiers, used by Alembic.
revision = "0026_staff_mfa"
down_revision = "0025_data_rights"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("totp_secret", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("totp_enabled_at", UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("second_factor_at", UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("device", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("ip_prefix", sa.String(length=45), nullable=True))
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("second_factor_at", UTCDateTime(timezone=True), nullable=True)
        )
    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_recovery_codes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_recovery_codes_code_hash")),
    )
    with op.batch_alter_table("recovery_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recovery_codes_user_id"), ["user_id"], unique=False)


def downgrade():
    with op.batch_alter_table("recovery_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recovery_codes_user_id"))
    op.drop_table("recovery_codes")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_column("second_factor_at")
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.drop_column("ip_prefix")
        batch_op.drop_column("device")
        batch_op.drop_column("second_factor_at")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("totp_last_step")
        batch_op.drop_column("totp_enabled_at")
        batch_op.drop_column("totp_secret")
