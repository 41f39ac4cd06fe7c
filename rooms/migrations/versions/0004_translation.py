"""live translation: reading languages, chat languages and translations, caption identity

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 04:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("participants") as batch:
        batch.add_column(
            sa.Column("reading_language", sa.String(16), nullable=False, server_default="")
        )
    with op.batch_alter_table("chat_messages") as batch:
        batch.add_column(sa.Column("language", sa.String(16), nullable=False, server_default=""))
    with op.batch_alter_table("transcript_entries") as batch:
        batch.add_column(sa.Column("utterance_id", sa.String(64), nullable=True))
        batch.add_column(
            sa.Column("translations", sa.JSON(), nullable=False, server_default="{}")
        )
        batch.create_index("ix_transcript_entries_utterance_id", ["utterance_id"], unique=True)
    op.create_table(
        "chat_translations",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("message_id", sa.String(32), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("route", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"], ["chat_messages.id"],
            name=op.f("fk_chat_translations_message_id_chat_messages"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_translations")),
        sa.UniqueConstraint("message_id", "language", name=op.f("uq_chat_translations_message_id")),
    )


def downgrade() -> None:
    op.drop_table("chat_translations")
    with op.batch_alter_table("transcript_entries") as batch:
        batch.drop_index("ix_transcript_entries_utterance_id")
        batch.drop_column("translations")
        batch.drop_column("utterance_id")
    with op.batch_alter_table("chat_messages") as batch:
        batch.drop_column("language")
    with op.batch_alter_table("participants") as batch:
        batch.drop_column("reading_language")
