"""Add-nodes actions: the node template's taints, and the node the new nodes replace; autoscaler
state: when fallback nodes were last tried back on spot, and the spot prices the controller reported.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("autoscaler_actions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("taints", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("replaces", sa.String(length=253), nullable=True))
    with op.batch_alter_table("autoscaler_state", schema=None) as batch_op:
        batch_op.add_column(sa.Column("spot_restored_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("spot_prices", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("spot_prices_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("autoscaler_state", schema=None) as batch_op:
        batch_op.drop_column("spot_prices_at")
        batch_op.drop_column("spot_prices")
        batch_op.drop_column("spot_restored_at")
    with op.batch_alter_table("autoscaler_actions", schema=None) as batch_op:
        batch_op.drop_column("replaces")
        batch_op.drop_column("taints")
