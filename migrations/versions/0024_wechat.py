"""WeChat mini-program sign-in: an openid linked to an account, and the tokens that link them

Revision ID: 0024_wechat
Revises: 0023_dashboard
Create Date: 2026-12-07 04:00:00

``users.wechat_openid`` is unique (one account per openid; one column, so one openid per
account). ``wechat_link_tokens`` holds the short-lived, single-use tokens (their SHA-256 only)
that let an openid new to the site be linked to the account of a number verified by SMS code.
"""

import sqlalchemy as sa
from alembic import op

from portal.core.types import UTCDateTime

# revision identifiers, used by Alembic.
revision = "0024_wechat"
down_revision = "0023_dashboard"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("wechat_openid", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_users_wechat_openid"), ["wechat_openid"])
    op.create_table(
        "wechat_link_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("openid", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wechat_link_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_wechat_link_tokens_token_hash")),
    )
    with op.batch_alter_table("wechat_link_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_wechat_link_tokens_expires_at"), ["expires_at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("wechat_link_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wechat_link_tokens_expires_at"))
    op.drop_table("wechat_link_tokens")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_users_wechat_openid"), type_="unique")
        batch_op.drop_column("wechat_openid")
