"""plan identity: framework vs a unit's own plan, validity, definition revisions

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 16:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("code", sa.String(length=64), nullable=False,
                                      server_default=""))
        batch_op.add_column(sa.Column("scope", sa.String(length=16), nullable=False,
                                      server_default="framework"))
        batch_op.add_column(sa.Column("owner_unit_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("issuer", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("valid_from", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("valid_to", sa.Date(), nullable=True))
        batch_op.create_index(batch_op.f("ix_plans_owner_unit_id"), ["owner_unit_id"],
                              unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_plans_owner_unit_id_units"), "units",
                                    ["owner_unit_id"], ["id"])
    op.execute("UPDATE plans SET code = id")
    op.create_table(
        "plan_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.String(length=64), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("forced", sa.JSON(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"],
                                name=op.f("fk_plan_revisions_plan_id_plans")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_revisions")),
    )
    with op.batch_alter_table("plan_revisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_revisions_plan_id"), ["plan_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("plan_revisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_revisions_plan_id"))
    op.drop_table("plan_revisions")
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_plans_owner_unit_id_units"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_plans_owner_unit_id"))
        for col in ("valid_to", "valid_from", "issuer", "owner_unit_id", "scope", "code"):
            batch_op.drop_column(col)
