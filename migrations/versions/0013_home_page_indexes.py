"""the home page's lists in index order: open proposals by (closes_at, id), cases by closing

Revision ID: 0013_home_page_indexes
Revises: 0012_author_keyset_indexes
Create Date: 2026-12-06 23:00:00

"Closing soon" orders open proposals by (closes_at, id): with the id in the index, the first
rows are read in order however many proposals close at the same moment (before, PostgreSQL
sorted every proposal of the first closing time). "Resolved lately" and this month's figures
read closed cases by their closing time, which no index held.
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0013_home_page_indexes"
down_revision = "0012_author_keyset_indexes"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.drop_index("ix_proposals_status_closes")
        batch_op.create_index(
            "ix_proposals_status_closes", ["status", "closes_at", "id"], unique=False
        )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index("ix_cases_state_closed", ["state", "closed_at", "id"], unique=False)


def downgrade():
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_state_closed")
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.drop_index("ix_proposals_status_closes")
        batch_op.create_index("ix_proposals_status_closes", ["status", "closes_at"], unique=False)
