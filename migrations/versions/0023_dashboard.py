"""the dashboard's summary tables: facts per proposal and their daily sums

Revision ID: 0023_dashboard
Revises: 0022_open311_keys
Create Date: 2026-12-07 04:30:00

Both tables are derived from the stored history; after upgrading, ``flask dashboard refresh``
fills them (it counts every proposal that has no facts yet).
"""

import sqlalchemy as sa
from alembic import op

import portal.core.types

revision = "0023_dashboard"
down_revision = "0022_open311_keys"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "dashboard_daily",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("answers", sa.Integer(), nullable=False),
        sa.Column("satisfied", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dashboard_daily")),
        sa.UniqueConstraint(
            "day",
            "kind",
            "outcome",
            "community_id",
            "agency_id",
            "category_id",
            "bucket",
            name="uq_dashboard_daily_key",
        ),
    )
    with op.batch_alter_table("dashboard_daily", schema=None) as batch_op:
        batch_op.create_index("ix_dashboard_daily_agency_day", ["agency_id", "day"], unique=False)
        batch_op.create_index(
            "ix_dashboard_daily_community_day", ["community_id", "day"], unique=False
        )
        batch_op.create_index("ix_dashboard_daily_kind_day", ["kind", "day"], unique=False)

    op.create_table(
        "dashboard_facts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("answers", sa.Integer(), nullable=False),
        sa.Column("satisfied", sa.Integer(), nullable=False),
        sa.Column("decides_at", portal.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_dashboard_facts_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_dashboard_facts_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dashboard_facts")),
    )
    with op.batch_alter_table("dashboard_facts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_dashboard_facts_outcome_decides", ["outcome", "decides_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_dashboard_facts_proposal_id"), ["proposal_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("dashboard_facts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dashboard_facts_proposal_id"))
        batch_op.drop_index("ix_dashboard_facts_outcome_decides")
    op.drop_table("dashboard_facts")
    with op.batch_alter_table("dashboard_daily", schema=None) as batch_op:
        batch_op.drop_index("ix_dashboard_daily_kind_day")
        batch_op.drop_index("ix_dashboard_daily_community_day")
        batch_op.drop_index("ix_dashboard_daily_agency_day")
    op.drop_table("dashboard_daily")
