"""agencies can be made inactive: they then take no new invitations to answer agenda items

Revision ID: 0017_agency_active
Revises: 0016_votes
Create Date: 2026-12-07 02:30:00

Every agency existing today stays active.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0017_agency_active"
down_revision = "0016_votes"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("agencies", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False)
        )


def downgrade():
    with op.batch_alter_table("agencies", schema=None) as batch_op:
        batch_op.drop_column("active")
