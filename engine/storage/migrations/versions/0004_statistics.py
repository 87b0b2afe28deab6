"""statistics: period inputs of Phụ lục 4–6 and their frozen sheets

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 16:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_FROZEN = "statistics_snapshots"  # append-only like snapshots (cchc_append_only from 0001)


def upgrade() -> None:
    op.create_table(
        "period_statistics",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"],
                                name=op.f("fk_period_statistics_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_period_statistics")),
        sa.UniqueConstraint("unit_id", "period", name=op.f("uq_period_statistics_unit_id")),
    )
    op.create_table(
        "statistics_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("taken_by", sa.String(length=200), nullable=False),
        sa.Column("indicator_set", sa.String(length=100), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"],
                                name=op.f("fk_statistics_snapshots_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statistics_snapshots")),
        sa.UniqueConstraint("unit_id", "period", name=op.f("uq_statistics_snapshots_unit_id")),
    )
    pg = op.get_bind().dialect.name == "postgresql"
    for action in ("UPDATE", "DELETE"):
        body = ("FOR EACH ROW EXECUTE FUNCTION cchc_append_only()" if pg else
                f"BEGIN SELECT RAISE(ABORT, '{_FROZEN} is append-only'); END")
        op.execute(f"CREATE TRIGGER {_FROZEN}_no_{action.lower()} BEFORE {action} ON {_FROZEN} "
                   + body)


def downgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    for action in ("update", "delete"):
        on = f" ON {_FROZEN}" if pg else ""
        op.execute(f"DROP TRIGGER IF EXISTS {_FROZEN}_no_{action}{on}")
    op.drop_table("statistics_snapshots")
    op.drop_table("period_statistics")
