"""forms: definitions and versions, submitters, drafts, submissions, their history, attachments

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 07:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _id() -> sa.Column[str]:
    return sa.Column("id", sa.String(32), nullable=False)


def _when(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def _fk(table: str, column: str, target: str, ondelete: str | None = None
        ) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"],
                                   name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete)


def _status(name: str, values: list[str]) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=16)


STATUSES = ["submitted", "under_review", "needs_info", "approved", "rejected"]


def upgrade() -> None:
    op.create_table(
        "forms", _id(),
        sa.Column("slug", sa.String(64), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        _when("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forms")),
        sa.UniqueConstraint("slug", name=op.f("uq_forms_slug")),
    )
    op.create_table(
        "form_versions", _id(),
        sa.Column("form_id", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(32), nullable=True),
        _when("created_at"),
        _fk("form_versions", "form_id", "forms", "CASCADE"),
        _fk("form_versions", "created_by", "staff_users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_versions")),
        sa.UniqueConstraint("form_id", "version", name=op.f("uq_form_versions_form_id")),
    )
    op.create_index(op.f("ix_form_versions_form_id"), "form_versions", ["form_id"])
    op.create_table(
        "form_submitters", _id(),
        sa.Column("display_name", sa.String(120), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("reference", sa.String(64), nullable=False),
        sa.Column("participant_id", sa.String(32), nullable=True),
        sa.Column("created_by", sa.String(32), nullable=False),
        _when("created_at"),
        _fk("form_submitters", "participant_id", "participants", "SET NULL"),
        _fk("form_submitters", "created_by", "staff_users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_submitters")),
    )
    op.create_index(op.f("ix_form_submitters_participant_id"), "form_submitters",
                    ["participant_id"])
    op.create_table(
        "form_drafts", _id(),
        sa.Column("submitter_id", sa.String(32), nullable=False),
        sa.Column("form_id", sa.String(32), nullable=False),
        sa.Column("version_id", sa.String(32), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("saves", sa.Integer(), nullable=False),
        _when("updated_at"),
        _fk("form_drafts", "submitter_id", "form_submitters", "CASCADE"),
        _fk("form_drafts", "form_id", "forms", "CASCADE"),
        _fk("form_drafts", "version_id", "form_versions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_drafts")),
        sa.UniqueConstraint("submitter_id", "form_id", name=op.f("uq_form_drafts_submitter_id")),
    )
    op.create_index(op.f("ix_form_drafts_submitter_id"), "form_drafts", ["submitter_id"])
    op.create_table(
        "form_submissions", _id(),
        sa.Column("form_id", sa.String(32), nullable=False),
        sa.Column("version_id", sa.String(32), nullable=False),
        sa.Column("submitter_id", sa.String(32), nullable=False),
        sa.Column("draft_key", sa.String(32), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("status", _status("submission_status", STATUSES), nullable=False),
        _when("submitted_at"),
        _when("updated_at"),
        _fk("form_submissions", "form_id", "forms", "CASCADE"),
        _fk("form_submissions", "version_id", "form_versions"),
        _fk("form_submissions", "submitter_id", "form_submitters", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_submissions")),
        sa.UniqueConstraint("draft_key", name=op.f("uq_form_submissions_draft_key")),
    )
    for column in ("form_id", "submitter_id", "status", "submitted_at"):
        op.create_index(op.f(f"ix_form_submissions_{column}"), "form_submissions", [column])
    op.create_table(
        "form_submission_events", _id(),
        sa.Column("submission_id", sa.String(32), nullable=False),
        _when("at"),
        sa.Column("kind", _status("submission_event",
                                      ["submitted", "status", "comment", "file"]),
                  nullable=False),
        sa.Column("from_status", sa.String(16), nullable=True),
        sa.Column("to_status", sa.String(16), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("translations", sa.JSON(), nullable=False),
        sa.Column("internal", sa.Boolean(), nullable=False),
        sa.Column("staff_id", sa.String(32), nullable=True),
        sa.Column("author_name", sa.String(120), nullable=False),
        _fk("form_submission_events", "submission_id", "form_submissions", "CASCADE"),
        _fk("form_submission_events", "staff_id", "staff_users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_submission_events")),
    )
    op.create_index(op.f("ix_form_submission_events_submission_id"), "form_submission_events",
                    ["submission_id"])
    op.create_table(
        "form_attachments", _id(),
        sa.Column("submitter_id", sa.String(32), nullable=False),
        sa.Column("draft_id", sa.String(32), nullable=True),
        sa.Column("submission_id", sa.String(32), nullable=True),
        sa.Column("field", sa.String(40), nullable=False),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("content_type", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("storage_key", sa.String(200), nullable=False),
        _when("created_at"),
        _fk("form_attachments", "submitter_id", "form_submitters", "CASCADE"),
        _fk("form_attachments", "submission_id", "form_submissions", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_attachments")),
    )
    for column in ("submitter_id", "draft_id", "submission_id"):
        op.create_index(op.f(f"ix_form_attachments_{column}"), "form_attachments", [column])


def downgrade() -> None:
    for table in ("form_attachments", "form_submission_events", "form_submissions",
                  "form_drafts", "form_submitters", "form_versions", "forms"):
        op.drop_table(table)
