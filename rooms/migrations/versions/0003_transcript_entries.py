"""transcript_entries: final captions of consenting speakers

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 05:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "transcript_entries",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("room_id", sa.String(32), nullable=False),
        sa.Column("speaker_id", sa.String(32), nullable=False),
        sa.Column("speaker_name", sa.String(120), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("t_start", sa.Float(), nullable=False),
        sa.Column("t_end", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["room_id"], ["rooms.id"], name=op.f("fk_transcript_entries_room_id_rooms"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["speaker_id"], ["participants.id"],
            name=op.f("fk_transcript_entries_speaker_id_participants"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transcript_entries")),
    )
    op.create_index(
        op.f("ix_transcript_entries_room_id"), "transcript_entries", ["room_id"], unique=False
    )
    op.create_index(
        op.f("ix_transcript_entries_speaker_id"), "transcript_entries", ["speaker_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_transcript_entries_created_at"), "transcript_entries", ["created_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_transcript_entries_created_at"), table_name="transcript_entries")
    op.drop_index(op.f("ix_transcript_entries_speaker_id"), table_name="transcript_entries")
    op.drop_index(op.f("ix_transcript_entries_room_id"), table_name="transcript_entries")
    op.drop_table("transcript_entries")
