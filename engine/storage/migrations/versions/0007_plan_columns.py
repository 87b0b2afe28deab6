"""plan columns: a plan's declared optional appendix columns and each task's values

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 17:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("columns", sa.JSON(), nullable=True))
    with op.batch_alter_table("plan_tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("extra", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("plan_tasks", schema=None) as batch_op:
        batch_op.drop_column("extra")
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_column("columns")
