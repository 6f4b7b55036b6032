"""data rights: deleted accounts stay as tombstones, a keyed HMAC of each number, reauth codes,
and the log of staff views of a resident's details

Revision ID: 0025_data_rights
Revises: 0024_wechat
Create Date: 2026-12-07 04:10:00

``users.phone_hmac`` is filled by the application whenever a number is set; accounts existing
today have none until their number changes, which is enough: only a deleted account's HMAC is
ever compared with a live one's, and both are written from now on.
"""

import sqlalchemy as sa
from alembic import op

from portal.core.types import UTCDateTime

# revision identifiers, used by Alembic.
revision = "0025_data_rights"
down_revision = "0024_wechat"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone_hmac", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("erased_at", UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_users_phone_hmac"), ["phone_hmac"], unique=False)
        batch_op.drop_constraint(batch_op.f("ck_users_email_or_phone"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_users_email_or_phone"),
            "email IS NOT NULL OR phone IS NOT NULL OR erased_at IS NOT NULL",
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_users_erased_is_empty"),
            "erased_at IS NULL OR (email IS NULL AND phone IS NULL AND password_hash IS NULL "
            "AND community_id IS NULL AND wechat_openid IS NULL)",
        )
    with op.batch_alter_table("sms_codes", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_sms_codes_purpose"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_sms_codes_purpose"), "purpose IN ('sign_in', 'change_phone', 'reauth')"
        )
    op.create_table(
        "access_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("viewer_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(length=24), nullable=False),
        sa.Column("scope_type", sa.String(length=16), nullable=False),
        sa.Column("scope_code", sa.String(length=40), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["resident_id"],
            ["users.id"],
            name=op.f("fk_access_log_resident_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["viewer_id"],
            ["users.id"],
            name=op.f("fk_access_log_viewer_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_log")),
    )
    with op.batch_alter_table("access_log", schema=None) as batch_op:
        batch_op.create_index("ix_access_log_resident", ["resident_id", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_access_log_created_at"), ["created_at"], unique=False)


def downgrade():
    with op.batch_alter_table("access_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_log_created_at"))
        batch_op.drop_index("ix_access_log_resident")
    op.drop_table("access_log")
    op.execute("DELETE FROM sms_codes WHERE purpose = 'reauth'")
    with op.batch_alter_table("sms_codes", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_sms_codes_purpose"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_sms_codes_purpose"), "purpose IN ('sign_in', 'change_phone')"
        )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_users_erased_is_empty"), type_="check")
    # A tombstone cannot be removed (its supports and contributions count): it gets an address
    # that reaches nobody, which the older schema requires.
    op.execute(
        "UPDATE users SET email = 'erased-' || id || '@invalid.example' WHERE erased_at IS NOT NULL"
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_users_email_or_phone"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_users_email_or_phone"), "email IS NOT NULL OR phone IS NOT NULL"
        )
        batch_op.drop_index(batch_op.f("ix_users_phone_hmac"))
        batch_op.drop_column("erased_at")
        batch_op.drop_column("phone_hmac")
