"""sign in with a mobile number and an SMS code: numbers on accounts, codes and their sends

Revision ID: 0014_phone_sign_in
Revises: 0013_home_page_indexes
Create Date: 2026-12-07 01:00:00

An account now has an email address (with a password), a verified mobile number, or both:
email and password_hash may be empty, phone is unique (one account per number) and set only
once verified. The privacy notice a number's account accepted is kept with its time.
``sms_numbers`` holds one row per number, locked while a send is decided; ``sms_codes`` holds
every code sent (its HMAC only), which the caps count.
"""

import sqlalchemy as sa
from alembic import op

from portal.core.types import UTCDateTime

# revision identifiers, used by Alembic.
revision = "0014_phone_sign_in"
down_revision = "0013_home_page_indexes"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone", sa.String(length=16), nullable=True))
        batch_op.add_column(
            sa.Column("phone_verified_at", UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("privacy_version", sa.String(length=20), nullable=True))
        batch_op.add_column(
            sa.Column("privacy_accepted_at", UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.alter_column("email", existing_type=sa.String(length=254), nullable=True)
        batch_op.alter_column("password_hash", existing_type=sa.String(length=255), nullable=True)
        batch_op.create_unique_constraint(batch_op.f("uq_users_phone"), ["phone"])
        batch_op.create_check_constraint(
            batch_op.f("ck_users_email_or_phone"), "email IS NOT NULL OR phone IS NOT NULL"
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_users_phone_verified"),
            "phone IS NULL OR phone_verified_at IS NOT NULL",
        )
    op.create_table(
        "sms_numbers",
        sa.Column("phone", sa.String(length=16), nullable=False),
        sa.Column("last_sent_at", UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("phone", name=op.f("pk_sms_numbers")),
    )
    op.create_table(
        "sms_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=16), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("ip", sa.String(length=45), nullable=False),
        sa.Column("code_hmac", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("used_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("voided_at", UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_sms_codes_attempts")),
        sa.CheckConstraint(
            "purpose IN ('sign_in', 'change_phone')", name=op.f("ck_sms_codes_purpose")
        ),
        sa.ForeignKeyConstraint(
            ["phone"],
            ["sms_numbers.phone"],
            name=op.f("fk_sms_codes_phone_sms_numbers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_sms_codes_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_codes")),
    )
    with op.batch_alter_table("sms_codes", schema=None) as batch_op:
        batch_op.create_index("ix_sms_codes_phone_created", ["phone", "created_at"], unique=False)
        batch_op.create_index(
            "ix_sms_codes_phone_ip_created", ["phone", "ip", "created_at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("sms_codes", schema=None) as batch_op:
        batch_op.drop_index("ix_sms_codes_phone_ip_created")
        batch_op.drop_index("ix_sms_codes_phone_created")
    op.drop_table("sms_codes")
    op.drop_table("sms_numbers")
    # Accounts made by number alone cannot go back to a schema that needs an email address.
    op.execute("DELETE FROM users WHERE email IS NULL")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_users_phone_verified"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_users_email_or_phone"), type_="check")
        batch_op.drop_constraint(batch_op.f("uq_users_phone"), type_="unique")
        batch_op.alter_column("password_hash", existing_type=sa.String(length=255), nullable=False)
        batch_op.alter_column("email", existing_type=sa.String(length=254), nullable=False)
        batch_op.drop_column("privacy_accepted_at")
        batch_op.drop_column("privacy_version")
        batch_op.drop_column("phone_verified_at")
        batch_op.drop_column("phone")
