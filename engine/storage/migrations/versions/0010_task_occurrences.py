"""task occurrences: recurring work has one task row per period

A task whose deadline recurs ("Hằng quý", "Hằng tháng", "6 tháng", "Hằng năm") gets one row per
period of its plan's validity, `occurrence` being the period code ("2026-Q1"); every other task
keeps one row with an empty `occurrence`. The unique key becomes (unit, plan, code, occurrence).
Existing rows are kept as they are (empty occurrence); reloading the plan adds the occurrences.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 19:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("occurrence", sa.String(length=16), nullable=False,
                                      server_default=""))
        batch_op.drop_constraint("uq_tasks_unit_id", type_="unique")
        batch_op.create_unique_constraint(
            "uq_tasks_unit_id", ["unit_id", "plan_id", "code", "occurrence"])


def downgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_constraint("uq_tasks_unit_id", type_="unique")
        batch_op.create_unique_constraint("uq_tasks_unit_id", ["unit_id", "plan_id", "code"])
        batch_op.drop_column("occurrence")
