"""access hardening: room staff membership, invitation claims, throttling (issue 13)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 07:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# Invitations that already have a participant were claimed when that person joined.
_BACKFILL_CLAIMS = """
UPDATE invites SET claimed_at = (
    SELECT MIN(participants.joined_at) FROM participants
    WHERE participants.invite_id = invites.id)
WHERE EXISTS (SELECT 1 FROM participants WHERE participants.invite_id = invites.id)
"""


def upgrade() -> None:
    with op.batch_alter_table("invites") as batch:
        batch.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(_BACKFILL_CLAIMS)
    op.create_table(
        "room_staff",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("room_id", sa.String(32), nullable=False),
        sa.Column("staff_id", sa.String(32), nullable=False),
        sa.Column("added_by", sa.String(32), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["room_id"], ["rooms.id"],
                                name=op.f("fk_room_staff_room_id_rooms"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_users.id"],
                                name=op.f("fk_room_staff_staff_id_staff_users")),
        sa.ForeignKeyConstraint(["added_by"], ["staff_users.id"],
                                name=op.f("fk_room_staff_added_by_staff_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_room_staff")),
        sa.UniqueConstraint("room_id", "staff_id", name=op.f("uq_room_staff_room_id")),
    )
    op.create_index(op.f("ix_room_staff_room_id"), "room_staff", ["room_id"])
    op.create_table(
        "invite_reveals",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("invite_id", sa.String(32), nullable=False),
        sa.Column("staff_id", sa.String(32), nullable=False),
        sa.Column("code", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["invite_id"], ["invites.id"],
                                name=op.f("fk_invite_reveals_invite_id_invites"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_users.id"],
                                name=op.f("fk_invite_reveals_staff_id_staff_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invite_reveals")),
    )
    op.create_index(op.f("ix_invite_reveals_created_at"), "invite_reveals", ["created_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_invite_reveals_created_at"), table_name="invite_reveals")
    op.drop_table("invite_reveals")
    op.drop_index(op.f("ix_room_staff_room_id"), table_name="room_staff")
    op.drop_table("room_staff")
    with op.batch_alter_table("invites") as batch:
        batch.drop_column("claimed_at")
