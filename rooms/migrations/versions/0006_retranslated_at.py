"""caption corrections: when a corrected source text's re-translation landed

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("caption_corrections") as batch:
        batch.add_column(sa.Column("retranslated_at", sa.DateTime(timezone=True),
                                   nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("caption_corrections") as batch:
        batch.drop_column("retranslated_at")
