"""a person's own proposals and comments, newest first: (author_id, id) indexes

Revision ID: 0012_author_keyset_indexes
Revises: 0011_proposal_filing_pending
Create Date: 2026-12-08 10:00:00

"My proposals" and "my comments" page by id within one author; the composite index serves
that order and every lookup by author alone, so it replaces the single-column one.
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0012_author_keyset_indexes"
down_revision = "0011_proposal_filing_pending"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.create_index("ix_proposals_author", ["author_id", "id"], unique=False)
        batch_op.drop_index(batch_op.f("ix_proposals_author_id"))
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.create_index("ix_comments_author", ["author_id", "id"], unique=False)
        batch_op.drop_index(batch_op.f("ix_comments_author_id"))


def downgrade():
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_comments_author_id"), ["author_id"], unique=False)
        batch_op.drop_index("ix_comments_author")
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_proposals_author_id"), ["author_id"], unique=False)
        batch_op.drop_index("ix_proposals_author")
