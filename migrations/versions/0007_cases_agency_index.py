"""index cases by agency and id

Revision ID: 0007_cases_agency_index
Revises: 0006_case_photos
Create Date: 2026-11-27 22:15:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0007_cases_agency_index"
down_revision = "0006_case_photos"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index("ix_cases_agency_id", ["agency_id", "id"], unique=False)


def downgrade():
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_agency_id")
