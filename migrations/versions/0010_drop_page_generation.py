"""drop the page generation sequence: the per-process page caches that read it are gone

Revision ID: 0010_drop_page_generation
Revises: 0009_proposal_hidden_at
Create Date: 2026-12-06 19:50:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0010_drop_page_generation"
down_revision = "0009_proposal_hidden_at"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP SEQUENCE IF EXISTS commons_page_generation")


def downgrade():
    # As 0008_page_generation made it (PostgreSQL only; called once so that last_value moves
    # with the very first change).
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE SEQUENCE commons_page_generation")
        op.execute("SELECT nextval('commons_page_generation')")
