"""a sequence that counts committed changes, for the signed-in page cache

Revision ID: 0008_page_generation
Revises: 0007_cases_agency_index
Create Date: 2026-11-27 23:45:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0008_page_generation"
down_revision = "0007_cases_agency_index"
branch_labels = None
depends_on = None


def upgrade():
    # PostgreSQL only: sequences are not transactional, so every worker process sees a bump at
    # once and without locking; on SQLite (one process in development) the cache stays off.
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE SEQUENCE commons_page_generation")
        # Called once, so that last_value moves with the very first change: before its first
        # nextval a sequence reports the same last_value as after it.
        op.execute("SELECT nextval('commons_page_generation')")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP SEQUENCE commons_page_generation")
