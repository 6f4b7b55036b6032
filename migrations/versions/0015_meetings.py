"""meetings (议事会): agendas, invitations to agencies and their written answers,
registrations, questions on items (reported like comments) and decisions

Revision ID: 0015_meetings
Revises: 0014_phone_sign_in
Create Date: 2026-12-07 00:27:53

Questions on agenda items join the moderation queue: a report may now name one.
"""

import sqlalchemy as sa
from alembic import op

import portal.core.types

# revision identifiers, used by Alembic.
revision = "0015_meetings"
down_revision = "0014_phone_sign_in"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "meetings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("starts_at", portal.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", portal.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("location", sa.String(length=300), nullable=False),
        sa.Column("online_url", sa.String(length=500), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.Column("minutes", sa.Text(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", portal.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("published_at", portal.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", portal.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("held_at", portal.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("archived_at", portal.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(state = 'cancelled') = (cancelled_at IS NOT NULL AND cancel_reason IS NOT NULL)",
            name=op.f("ck_meetings_cancelled_is_stamped"),
        ),
        sa.CheckConstraint(
            "state = 'draft' OR published_at IS NOT NULL",
            name=op.f("ck_meetings_published_stamped"),
        ),
        sa.CheckConstraint(
            "state IN ('draft', 'published', 'held', 'archived', 'cancelled')",
            name=op.f("ck_meetings_state"),
        ),
        sa.CheckConstraint(
            "state NOT IN ('held', 'archived') OR (held_at IS NOT NULL AND minutes IS NOT NULL)",
            name=op.f("ck_meetings_held_has_minutes"),
        ),
        sa.CheckConstraint("capacity IS NULL OR capacity >= 1", name=op.f("ck_meetings_capacity")),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_meetings_ends_after_start")),
        sa.ForeignKeyConstraint(
            ["community_id"], ["communities.id"], name=op.f("fk_meetings_community_id_communities")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_meetings_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meetings")),
    )
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.create_index(
            "ix_meetings_community_starts", ["community_id", "starts_at", "id"], unique=False
        )
        batch_op.create_index("ix_meetings_state_starts", ["state", "starts_at"], unique=False)

    op.create_table(
        "meeting_registrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("waitlist_position", sa.Integer(), nullable=True),
        sa.Column("created_at", portal.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("promoted_at", portal.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(state = 'waitlisted') = (waitlist_position IS NOT NULL)",
            name=op.f("ck_meeting_registrations_waitlist_position"),
        ),
        sa.CheckConstraint(
            "state IN ('registered', 'waitlisted')", name=op.f("ck_meeting_registrations_state")
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_meeting_registrations_meeting_id_meetings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_meeting_registrations_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_registrations")),
        sa.UniqueConstraint("meeting_id", "user_id", name="uq_meeting_registrations_meeting_user"),
    )
    with op.batch_alter_table("meeting_registrations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_meeting_registrations_user", ["user_id", "meeting_id"], unique=False
        )

    op.create_table(
        "agenda_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("topic", sa.String(length=200), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", portal.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(kind = 'proposal' AND proposal_id IS NOT NULL AND case_id IS NULL AND topic IS NULL) OR (kind = 'case' AND case_id IS NOT NULL AND proposal_id IS NULL AND topic IS NULL) OR (kind = 'topic' AND topic IS NOT NULL AND proposal_id IS NULL AND case_id IS NULL)",
            name=op.f("ck_agenda_items_kind_matches_subject"),
        ),
        sa.CheckConstraint(
            "kind IN ('proposal', 'case', 'topic')", name=op.f("ck_agenda_items_kind")
        ),
        sa.CheckConstraint("position >= 1", name=op.f("ck_agenda_items_position")),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_agenda_items_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_agenda_items_meeting_id_meetings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"], ["proposals.id"], name=op.f("fk_agenda_items_proposal_id_proposals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agenda_items")),
    )
    with op.batch_alter_table("agenda_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agenda_items_case_id"), ["case_id"], unique=False)
        batch_op.create_index("ix_agenda_items_meeting", ["meeting_id", "position"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_agenda_items_proposal_id"), ["proposal_id"], unique=False
        )

    op.create_table(
        "meeting_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", portal.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "outcome IN ('agreed-action', 'referred-to-agency', 'needs-more-input', 'no-action')",
            name=op.f("ck_meeting_decisions_outcome"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["users.id"],
            name=op.f("fk_meeting_decisions_decided_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["agenda_items.id"],
            name=op.f("fk_meeting_decisions_item_id_agenda_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_decisions")),
        sa.UniqueConstraint("item_id", name="uq_meeting_decisions_item"),
    )
    op.create_table(
        "meeting_invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("due_at", portal.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("invited_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", portal.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answered_at", portal.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reminded_at", portal.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(state = 'answered') = (answered_at IS NOT NULL)",
            name=op.f("ck_meeting_invitations_answered_is_stamped"),
        ),
        sa.CheckConstraint(
            "state IN ('open', 'answered')", name=op.f("ck_meeting_invitations_state")
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_meeting_invitations_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["invited_by_id"],
            ["users.id"],
            name=op.f("fk_meeting_invitations_invited_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["agenda_items.id"],
            name=op.f("fk_meeting_invitations_item_id_agenda_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_invitations")),
        sa.UniqueConstraint("item_id", "agency_id", name="uq_meeting_invitations_item_agency"),
    )
    with op.batch_alter_table("meeting_invitations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_meeting_invitations_agency_state", ["agency_id", "state", "due_at"], unique=False
        )
        batch_op.create_index("ix_meeting_invitations_state_due", ["state", "due_at"], unique=False)

    op.create_table(
        "meeting_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", portal.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("hidden_auto", sa.Boolean(), nullable=False),
        sa.Column("hidden_reason", sa.String(length=20), nullable=True),
        sa.Column("hidden_note", sa.String(length=500), nullable=True),
        sa.Column("hidden_at", portal.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("report_count", sa.Integer(), nullable=False),
        sa.Column("answered_at", portal.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("answered_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(answered_at IS NULL) = (answered_by_id IS NULL)",
            name=op.f("ck_meeting_questions_answered_is_stamped"),
        ),
        sa.CheckConstraint(
            "hidden OR hidden_at IS NULL", name=op.f("ck_meeting_questions_hidden_is_stamped")
        ),
        sa.ForeignKeyConstraint(
            ["answered_by_id"], ["users.id"], name=op.f("fk_meeting_questions_answered_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_meeting_questions_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_meeting_questions_community_id_communities"),
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["agenda_items.id"],
            name=op.f("fk_meeting_questions_item_id_agenda_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_questions")),
    )
    with op.batch_alter_table("meeting_questions", schema=None) as batch_op:
        batch_op.create_index("ix_meeting_questions_author", ["author_id", "id"], unique=False)
        batch_op.create_index("ix_meeting_questions_item", ["item_id", "id"], unique=False)

    op.create_table(
        "meeting_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invitation_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("attendee_role", sa.String(length=100), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("created_at", portal.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("published_at", portal.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(state = 'published') = (published_at IS NOT NULL)",
            name=op.f("ck_meeting_answers_published_is_stamped"),
        ),
        sa.CheckConstraint(
            "state IN ('draft', 'published')", name=op.f("ck_meeting_answers_state")
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_meeting_answers_author_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["invitation_id"],
            ["meeting_invitations.id"],
            name=op.f("fk_meeting_answers_invitation_id_meeting_invitations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_answers")),
        sa.UniqueConstraint("invitation_id", name="uq_meeting_answers_invitation"),
    )
    op.create_table(
        "meeting_commitments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("answer_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["answer_id"],
            ["meeting_answers.id"],
            name=op.f("fk_meeting_commitments_answer_id_meeting_answers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_commitments")),
    )
    with op.batch_alter_table("meeting_commitments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_meeting_commitments_answer", ["answer_id", "position"], unique=False
        )

    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_reports_target_type"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_reports_target_type"), "target_type IN ('proposal', 'comment', 'question')"
        )


def downgrade():
    op.execute("DELETE FROM reports WHERE target_type = 'question'")
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_reports_target_type"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_reports_target_type"), "target_type IN ('proposal', 'comment')"
        )
    with op.batch_alter_table("meeting_commitments", schema=None) as batch_op:
        batch_op.drop_index("ix_meeting_commitments_answer")

    op.drop_table("meeting_commitments")
    op.drop_table("meeting_answers")
    with op.batch_alter_table("meeting_questions", schema=None) as batch_op:
        batch_op.drop_index("ix_meeting_questions_item")
        batch_op.drop_index("ix_meeting_questions_author")

    op.drop_table("meeting_questions")
    with op.batch_alter_table("meeting_invitations", schema=None) as batch_op:
        batch_op.drop_index("ix_meeting_invitations_state_due")
        batch_op.drop_index("ix_meeting_invitations_agency_state")

    op.drop_table("meeting_invitations")
    op.drop_table("meeting_decisions")
    with op.batch_alter_table("agenda_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agenda_items_proposal_id"))
        batch_op.drop_index("ix_agenda_items_meeting")
        batch_op.drop_index(batch_op.f("ix_agenda_items_case_id"))

    op.drop_table("agenda_items")
    with op.batch_alter_table("meeting_registrations", schema=None) as batch_op:
        batch_op.drop_index("ix_meeting_registrations_user")

    op.drop_table("meeting_registrations")
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.drop_index("ix_meetings_state_starts")
        batch_op.drop_index("ix_meetings_community_starts")

    op.drop_table("meetings")
