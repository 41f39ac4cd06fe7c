"""program hall pages: pages and their texts per language

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hall_pages",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("slug", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("form_slug", sa.String(64), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hall_pages")),
        sa.UniqueConstraint("slug", name=op.f("uq_hall_pages_slug")),
    )
    op.create_table(
        "hall_page_texts",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("page_id", sa.String(32), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("summary", sa.String(500), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(32), nullable=True),
        sa.ForeignKeyConstraint(["page_id"], ["hall_pages.id"],
                                name=op.f("fk_hall_page_texts_page_id_hall_pages"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["updated_by"], ["staff_users.id"],
                                name=op.f("fk_hall_page_texts_updated_by_staff_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hall_page_texts")),
        sa.UniqueConstraint("page_id", "language", name=op.f("uq_hall_page_texts_page_id")),
    )
    op.create_index(op.f("ix_hall_page_texts_page_id"), "hall_page_texts", ["page_id"])


def downgrade() -> None:
    op.drop_table("hall_page_texts")
    op.drop_table("hall_pages")
