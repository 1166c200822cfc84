"""Autoscaler actions (the audit trail) and its per-cluster state.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "autoscaler_actions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("cluster_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("node", sa.String(length=253), nullable=True),
        sa.Column("instance_type", sa.String(length=100), nullable=True),
        sa.Column("capacity_type", sa.String(length=16), nullable=True),
        sa.Column("zone", sa.String(length=100), nullable=True),
        sa.Column("count", sa.Integer(), nullable=True),
        sa.Column("hourly_price", sa.Float(), nullable=True),
        sa.Column("pods", sa.JSON(), nullable=True),
        sa.Column("alternatives", sa.JSON(), nullable=True),
        sa.Column("labels", sa.JSON(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["cluster_id"], ["clusters.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("autoscaler_actions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_autoscaler_actions_cluster_id"), ["cluster_id"], unique=False)
    op.create_table(
        "autoscaler_state",
        sa.Column("cluster_id", sa.String(length=36), nullable=False),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("empty_since", sa.JSON(), nullable=False),
        sa.Column("evictor_ran_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unavailable", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["cluster_id"], ["clusters.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("cluster_id"),
    )


def downgrade() -> None:
    op.drop_table("autoscaler_state")
    with op.batch_alter_table("autoscaler_actions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_autoscaler_actions_cluster_id"))
    op.drop_table("autoscaler_actions")
