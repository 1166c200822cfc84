"""The cluster controller's version and when it last called, per cluster (shown in the cluster view).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("clusters", schema=None) as batch_op:
        batch_op.add_column(sa.Column("controller_version", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("controller_seen_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("clusters", schema=None) as batch_op:
        batch_op.drop_column("controller_seen_at")
        batch_op.drop_column("controller_version")
