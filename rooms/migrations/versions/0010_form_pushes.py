"""forms pushed into a room; invitations' short links

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def _fk(column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"],
                                   name=op.f(f"fk_form_pushes_{column}_{target}"),
                                   ondelete=ondelete)


def upgrade() -> None:
    op.create_table(
        "form_pushes",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("room_id", sa.String(32), nullable=False),
        sa.Column("participant_id", sa.String(32), nullable=False),
        sa.Column("form_id", sa.String(32), nullable=False),
        sa.Column("submitter_id", sa.String(32), nullable=False),
        sa.Column("pushed_by", sa.String(120), nullable=False),
        sa.Column("pushed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submission_id", sa.String(32), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        _fk("room_id", "rooms", "CASCADE"),
        _fk("participant_id", "participants", "CASCADE"),
        _fk("form_id", "forms", "CASCADE"),
        _fk("submitter_id", "form_submitters", "CASCADE"),
        _fk("submission_id", "form_submissions", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_pushes")),
    )
    for column in ("room_id", "participant_id", "submitter_id"):
        op.create_index(op.f(f"ix_form_pushes_{column}"), "form_pushes", [column])
    with op.batch_alter_table("invites") as batch:
        batch.add_column(sa.Column("short_code", sa.String(16), nullable=True))
        batch.add_column(sa.Column("language", sa.String(16), nullable=False,
                                   server_default=""))
        batch.create_index(op.f("ix_invites_short_code"), ["short_code"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("invites") as batch:
        batch.drop_index(op.f("ix_invites_short_code"))
        batch.drop_column("language")
        batch.drop_column("short_code")
    op.drop_table("form_pushes")
