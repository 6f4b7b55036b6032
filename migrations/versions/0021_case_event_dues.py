"""case events keep the case's clock: the current stage's due time and the handling limit

Revision ID: 0021_case_event_dues
Revises: 0017_agency_active
Create Date: 2026-12-07 04:30:00

A re-route, an extension or a reopening overwrote the case's due times, and the response
limit was never stored, so past stages could not be judged. From now on every event keeps
both due times as the step left them (``record_event``).

Backfill: the newest event of each case takes the case's current due times, which are
exactly what that step left. Older events cannot be recovered (the values they saw were
overwritten) and keep an empty ``handling_due_at``: that marks a step from before this
revision, which the figures count as "not recorded" rather than guess.
"""

import sqlalchemy as sa
from alembic import op

import portal.core.types

# revision identifiers, used by Alembic.
revision = "0021_case_event_dues"
down_revision = "0017_agency_active"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("case_events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("stage_due_at", portal.core.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                "handling_due_at", portal.core.types.UTCDateTime(timezone=True), nullable=True
            )
        )
    op.execute(
        """
        UPDATE case_events SET
          stage_due_at = (SELECT c.stage_due_at FROM cases c WHERE c.id = case_events.case_id),
          handling_due_at = (SELECT c.handling_due_at FROM cases c WHERE c.id = case_events.case_id)
        WHERE id IN (SELECT max(id) FROM case_events GROUP BY case_id)
        """
    )


def downgrade():
    with op.batch_alter_table("case_events", schema=None) as batch_op:
        batch_op.drop_column("handling_due_at")
        batch_op.drop_column("stage_due_at")
