"""period corrections: a change dated inside a frozen period records which period and why

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 16:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("task_history", schema=None) as batch_op:
        batch_op.add_column(sa.Column("corrects_period", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("correction_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("task_history", schema=None) as batch_op:
        batch_op.drop_column("correction_reason")
        batch_op.drop_column("corrects_period")
