"""dashboard: a rollup per day and month for each scope, instead of the daily sums

Revision ID: 0027_dashboard_rollup
Revises: 0026_staff_mfa
Create Date: 2026-12-07 13:00:00

``dashboard_daily`` kept a row per day × figure × community × agency × category × bucket, which
at city scale was about one row per fact: a year's page summed 150,000 rows five times. The
rollup keeps the same sums per scope (city, district, community, agency) and per day and
month, so a page reads tens of rows. It is filled here from the facts (the source of both).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0027_dashboard_rollup"
down_revision = "0026_staff_mfa"
branch_labels = None
depends_on = None

ROLLUP_KEY = (
    "scope",
    "scope_id",
    "split",
    "grain",
    "period",
    "kind",
    "outcome",
    "split_id",
    "bucket",
)
DAILY_KEY = ("day", "kind", "outcome", "community_id", "agency_id", "category_id", "bucket")


def _fill_rollup() -> None:
    """The rule of ``rollup.rollup_keys`` in SQL: each fact counts in its day and its month,
    for the city, its community, its district and its agency (if any); unsplit (keeping the
    days-to-close bucket), by agency (case figures), by category (opened cases)."""
    month = (
        "CAST(date_trunc('month', f.day) AS DATE)"
        if op.get_bind().dialect.name == "postgresql"
        else "date(f.day, 'start of month')"
    )
    scopes = {
        "city": ("0", "1 = 1"),
        "community": ("f.community_id", "1 = 1"),
        "district": ("s.district_id", "s.district_id IS NOT NULL"),
        "agency": ("f.agency_id", "f.agency_id <> 0"),
    }
    splits = {
        "": ("0", "f.bucket", "1 = 1"),
        "agency": ("f.agency_id", "0", "f.agency_id <> 0 AND f.kind <> 'submitted'"),
        "category": ("f.category_id", "0", "f.kind = 'opened'"),
    }
    for grain, period in (("d", "f.day"), ("m", month)):
        for scope, (scope_id, scope_where) in scopes.items():
            for split, (split_id, bucket, split_where) in splits.items():
                key = [
                    f"'{scope}'",
                    scope_id,
                    f"'{split}'",
                    f"'{grain}'",
                    period,
                    "f.kind",
                    "f.outcome",
                    split_id,
                    bucket,
                ]
                # Constants stay out of GROUP BY (a number there names a column).
                group = [k for k in key if not (k.startswith("'") or k.isdigit())]
                # Every piece is a constant of this file: no input reaches the SQL.
                cols = ", ".join(ROLLUP_KEY)
                sql = (
                    f"INSERT INTO dashboard_rollup ({cols}, n, answers, satisfied)"  # noqa: S608
                    f" SELECT {', '.join(key)}, COUNT(*), SUM(f.answers), SUM(f.satisfied)"
                    " FROM dashboard_facts f"
                    " LEFT JOIN communities c ON c.id = f.community_id"
                    " LEFT JOIN streets s ON s.id = c.street_id"
                    f" WHERE {scope_where} AND {split_where}"
                    f" GROUP BY {', '.join(group)}"
                )
                op.execute(sql)


def upgrade():
    op.create_table(
        "dashboard_rollup",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=10), nullable=False),
        sa.Column("scope_id", sa.Integer(), nullable=False),
        sa.Column("split", sa.String(length=8), nullable=False),
        sa.Column("grain", sa.String(length=1), nullable=False),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        sa.Column("split_id", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("answers", sa.Integer(), nullable=False),
        sa.Column("satisfied", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dashboard_rollup")),
        sa.UniqueConstraint(*ROLLUP_KEY, name="uq_dashboard_rollup_key"),
    )
    _fill_rollup()
    with op.batch_alter_table("dashboard_daily", schema=None) as batch_op:
        batch_op.drop_index("ix_dashboard_daily_kind_day")
        batch_op.drop_index("ix_dashboard_daily_community_day")
        batch_op.drop_index("ix_dashboard_daily_agency_day")
    op.drop_table("dashboard_daily")


def downgrade():
    op.create_table(
        "dashboard_daily",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("answers", sa.Integer(), nullable=False),
        sa.Column("satisfied", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dashboard_daily")),
        sa.UniqueConstraint(*DAILY_KEY, name="uq_dashboard_daily_key"),
    )
    with op.batch_alter_table("dashboard_daily", schema=None) as batch_op:
        batch_op.create_index("ix_dashboard_daily_agency_day", ["agency_id", "day"], unique=False)
        batch_op.create_index(
            "ix_dashboard_daily_community_day", ["community_id", "day"], unique=False
        )
        batch_op.create_index("ix_dashboard_daily_kind_day", ["kind", "day"], unique=False)
    key = ", ".join(DAILY_KEY)
    sql = (  # constants of this file
        f"INSERT INTO dashboard_daily ({key}, n, answers, satisfied)"  # noqa: S608
        f" SELECT {key}, COUNT(*), SUM(answers), SUM(satisfied) FROM dashboard_facts"
        f" GROUP BY {key}"
    )
    op.execute(sql)
    op.drop_table("dashboard_rollup")
