"""interpretation: interpreters assigned to rooms, caption corrections, audit log

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 05:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "room_interpreters",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("room_id", sa.String(32), nullable=False),
        sa.Column("staff_id", sa.String(32), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("assigned_by", sa.String(32), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["room_id"], ["rooms.id"],
                                name=op.f("fk_room_interpreters_room_id_rooms"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_users.id"],
                                name=op.f("fk_room_interpreters_staff_id_staff_users")),
        sa.ForeignKeyConstraint(["assigned_by"], ["staff_users.id"],
                                name=op.f("fk_room_interpreters_assigned_by_staff_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_room_interpreters")),
        sa.UniqueConstraint("room_id", "staff_id", name=op.f("uq_room_interpreters_room_id")),
    )
    op.create_index(op.f("ix_room_interpreters_room_id"), "room_interpreters", ["room_id"])
    op.create_table(
        "caption_corrections",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("room_id", sa.String(32), nullable=False),
        sa.Column("utterance_id", sa.String(64), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("replaced_text", sa.Text(), nullable=False),
        sa.Column("corrected_by", sa.String(32), nullable=False),
        sa.Column("corrected_by_name", sa.String(120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["room_id"], ["rooms.id"],
                                name=op.f("fk_caption_corrections_room_id_rooms"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["corrected_by"], ["participants.id"],
                                name=op.f("fk_caption_corrections_corrected_by_participants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_caption_corrections")),
    )
    op.create_index(op.f("ix_caption_corrections_room_id"), "caption_corrections", ["room_id"])
    op.create_index(op.f("ix_caption_corrections_utterance_id"), "caption_corrections",
                    ["utterance_id"])
    op.create_index(op.f("ix_caption_corrections_created_at"), "caption_corrections",
                    ["created_at"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("staff_id", sa.String(32), nullable=True),
        sa.Column("staff_name", sa.String(120), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("room_id", sa.String(32), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_users.id"],
                                name=op.f("fk_audit_log_staff_id_staff_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"])
    op.create_index(op.f("ix_audit_log_room_id"), "audit_log", ["room_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_audit_log_room_id"), table_name="audit_log")
    op.drop_index(op.f("ix_audit_log_at"), table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_index(op.f("ix_caption_corrections_created_at"), table_name="caption_corrections")
    op.drop_index(op.f("ix_caption_corrections_utterance_id"), table_name="caption_corrections")
    op.drop_index(op.f("ix_caption_corrections_room_id"), table_name="caption_corrections")
    op.drop_table("caption_corrections")
    op.drop_index(op.f("ix_room_interpreters_room_id"), table_name="room_interpreters")
    op.drop_table("room_interpreters")
