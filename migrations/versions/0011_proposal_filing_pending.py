"""proposals waiting to be filed as a case: since when, and why

Revision ID: 0011_proposal_filing_pending
Revises: 0010_drop_page_generation
Create Date: 2026-12-06 19:39:24

"""

import sqlalchemy as sa
from alembic import op

import portal.core.types

# revision identifiers, used by Alembic.
revision = "0011_proposal_filing_pending"
down_revision = "0010_drop_page_generation"
branch_labels = None
depends_on = None


def upgrade():
    # Every proposal so far was filed in the transaction that qualified it (or left open at its
    # threshold for the sweep): none waits, so the constraints hold as the columns appear.
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "filing_pending_since", portal.core.types.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(sa.Column("filing_error", sa.String(length=40), nullable=True))
        batch_op.create_index(
            "ix_proposals_filing_pending_since", ["filing_pending_since"], unique=False
        )
        batch_op.create_check_constraint(
            op.f("ck_proposals_filing_pending_qualified"),
            "filing_pending_since IS NULL OR status = 'qualified'",
        )
        batch_op.create_check_constraint(
            op.f("ck_proposals_filing_pending_has_error"),
            "(filing_pending_since IS NULL) = (filing_error IS NULL)",
        )


def downgrade():
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_proposals_filing_pending_has_error"), type_="check")
        batch_op.drop_constraint(op.f("ck_proposals_filing_pending_qualified"), type_="check")
        batch_op.drop_index("ix_proposals_filing_pending_since")
        batch_op.drop_column("filing_error")
        batch_op.drop_column("filing_pending_since")
