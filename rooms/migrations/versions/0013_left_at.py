"""participants.left_at: when someone pressed Leave (cleared when a socket of theirs opens)

Others see "left the session" for a person who left on purpose and "not connected" for one
whose connection dropped.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("participants") as batch:
        batch.add_column(sa.Column("left_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("participants") as batch:
        batch.drop_column("left_at")
