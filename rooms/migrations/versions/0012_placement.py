"""node heartbeats and connections per node

Every open room socket is a row naming the node that holds it, so the sockets of a node that
died can be found and taken out of presence (`participants.connections`). The counters kept so
far had no such record: they are reset (the sockets they counted are re-counted on reconnect).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "node_sockets",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("node_id", sa.String(32), nullable=False),
        sa.Column("participant_id", sa.String(32), nullable=False),
        sa.Column("room_id", sa.String(32), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["participant_id"], ["participants.id"],
                                name=op.f("fk_node_sockets_participant_id_participants"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["room_id"], ["rooms.id"],
                                name=op.f("fk_node_sockets_room_id_rooms"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_node_sockets")),
    )
    op.create_index(op.f("ix_node_sockets_node_id"), "node_sockets", ["node_id"])
    op.create_index(op.f("ix_node_sockets_participant_id"), "node_sockets", ["participant_id"])
    op.execute("UPDATE participants SET connections = 0")


def downgrade() -> None:
    op.drop_index(op.f("ix_node_sockets_participant_id"), table_name="node_sockets")
    op.drop_index(op.f("ix_node_sockets_node_id"), table_name="node_sockets")
    op.drop_table("node_sockets")
