"""pause a hidden proposal's support window: when it was hidden

Revision ID: 0009_proposal_hidden_at
Revises: 0008_page_generation
Create Date: 2026-12-06 18:29:50

"""

import sqlalchemy as sa
from alembic import op

import portal.core.types

# revision identifiers, used by Alembic.
revision = "0009_proposal_hidden_at"
down_revision = "0008_page_generation"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("hidden_at", portal.core.types.UTCDateTime(timezone=True), nullable=True)
        )
    # Proposals hidden already: since their last hide in the moderation log (or, without one,
    # their last change), so that the constraint below holds.
    op.execute(
        """
        UPDATE proposals SET hidden_at = COALESCE(
            (SELECT MAX(m.created_at) FROM moderation_actions m
             WHERE m.target_type = 'proposal' AND m.target_id = proposals.id
               AND m.action = 'hide'),
            updated_at)
        WHERE hidden
        """
    )
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.create_check_constraint(
            op.f("ck_proposals_hidden_is_stamped"), "hidden = (hidden_at IS NOT NULL)"
        )


def downgrade():
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_proposals_hidden_is_stamped"), type_="check")
        batch_op.drop_column("hidden_at")
