"""votes (表决) on agenda items: options, the electors frozen at opening, secret ballots

Revision ID: 0016_votes
Revises: 0015_meetings
Create Date: 2026-12-07 00:37:32

A ballot is the only row linking a person to an option; it has no id and no timestamp of its
own and is deleted when the vote is finalised, its count kept in vote_options.total.
"""

import sqlalchemy as sa
from alembic import op

import portal.core.types

# revision identifiers, used by Alembic.
revision = "0016_votes"
down_revision = "0015_meetings"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "votes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("question", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("opens_at", portal.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closes_at", portal.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("quorum_percent", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("eligible_count", sa.Integer(), nullable=True),
        sa.Column("turnout", sa.Integer(), nullable=True),
        sa.Column("quorum_met", sa.Boolean(), nullable=True),
        sa.Column("opened_at", portal.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", portal.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", portal.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(state = 'closed') = (closed_at IS NOT NULL AND turnout IS NOT NULL)",
            name=op.f("ck_votes_closing_is_stamped"),
        ),
        sa.CheckConstraint(
            "(state = 'scheduled') = (opened_at IS NULL AND eligible_count IS NULL)",
            name=op.f("ck_votes_opening_is_stamped"),
        ),
        sa.CheckConstraint(
            "kind IN ('options', 'for-against-abstain')", name=op.f("ck_votes_kind")
        ),
        sa.CheckConstraint(
            "state != 'closed' OR quorum_percent IS NULL OR quorum_met IS NOT NULL",
            name=op.f("ck_votes_quorum_is_told"),
        ),
        sa.CheckConstraint("state IN ('scheduled', 'open', 'closed')", name=op.f("ck_votes_state")),
        sa.CheckConstraint("closes_at > opens_at", name=op.f("ck_votes_closes_after_opening")),
        sa.CheckConstraint(
            "quorum_percent IS NULL OR (quorum_percent >= 1 AND quorum_percent <= 100)",
            name=op.f("ck_votes_quorum_percent"),
        ),
        sa.ForeignKeyConstraint(
            ["community_id"], ["communities.id"], name=op.f("fk_votes_community_id_communities")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_votes_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["agenda_items.id"],
            name=op.f("fk_votes_item_id_agenda_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_votes")),
    )
    with op.batch_alter_table("votes", schema=None) as batch_op:
        batch_op.create_index("ix_votes_community", ["community_id", "id"], unique=False)
        batch_op.create_index("ix_votes_item", ["item_id", "id"], unique=False)
        batch_op.create_index("ix_votes_state_closes", ["state", "closes_at"], unique=False)
        batch_op.create_index("ix_votes_state_opens", ["state", "opens_at"], unique=False)

    op.create_table(
        "vote_electors",
        sa.Column("vote_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("voted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_vote_electors_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["vote_id"],
            ["votes.id"],
            name=op.f("fk_vote_electors_vote_id_votes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("vote_id", "user_id", name=op.f("pk_vote_electors")),
    )
    with op.batch_alter_table("vote_electors", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vote_electors_user_id"), ["user_id"], unique=False)

    op.create_table(
        "vote_options",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vote_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("key", sa.String(length=10), nullable=True),
        sa.Column("total", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "key IS NULL OR key IN ('for', 'against', 'abstain')", name=op.f("ck_vote_options_key")
        ),
        sa.CheckConstraint(
            "position >= 1 AND position <= 6", name=op.f("ck_vote_options_position")
        ),
        sa.CheckConstraint("total IS NULL OR total >= 0", name=op.f("ck_vote_options_total")),
        sa.ForeignKeyConstraint(
            ["vote_id"],
            ["votes.id"],
            name=op.f("fk_vote_options_vote_id_votes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vote_options")),
        sa.UniqueConstraint("vote_id", "id", name="uq_vote_options_vote_id"),
        sa.UniqueConstraint("vote_id", "position", name="uq_vote_options_vote_position"),
    )
    op.create_table(
        "vote_ballots",
        sa.Column("vote_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("option_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["vote_id", "option_id"],
            ["vote_options.vote_id", "vote_options.id"],
            name="fk_vote_ballots_option",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["vote_id", "user_id"],
            ["vote_electors.vote_id", "vote_electors.user_id"],
            name="fk_vote_ballots_elector",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("vote_id", "user_id", name=op.f("pk_vote_ballots")),
    )


def downgrade():
    op.drop_table("vote_ballots")
    op.drop_table("vote_options")
    with op.batch_alter_table("vote_electors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vote_electors_user_id"))

    op.drop_table("vote_electors")
    with op.batch_alter_table("votes", schema=None) as batch_op:
        batch_op.drop_index("ix_votes_state_opens")
        batch_op.drop_index("ix_votes_state_closes")
        batch_op.drop_index("ix_votes_item")
        batch_op.drop_index("ix_votes_community")

    op.drop_table("votes")
