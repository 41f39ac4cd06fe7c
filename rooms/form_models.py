"""SQLAlchemy models of forms: definitions and their versions, the people who submit them,
drafts, submissions with their history, and attachments (files kept outside the database)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Enum, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from rooms.models import Base, UTCDateTime, new_id, utcnow


class SubmissionStatus(enum.StrEnum):
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    NEEDS_INFO = "needs_info"
    APPROVED = "approved"
    REJECTED = "rejected"


class EventKind(enum.StrEnum):
    SUBMITTED = "submitted"
    STATUS = "status"
    COMMENT = "comment"
    FILE = "file"
    """The worker added a file after more information was asked for."""


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(cls, name=name, native_enum=False, length=16, validate_strings=True,
                values_callable=lambda e: [m.value for m in e])


class FormDefinition(Base):
    """A form staff send to workers; its content lives in numbered `FormVersion`s."""

    __tablename__ = "forms"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    """The latest version's title (for lists)."""
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FormVersion(Base):
    """One saved version of a form: ``spec`` is a `rooms.form_schema.FormSpec` as JSON (fields,
    their texts in the form's language and stored translations). Never changed once saved."""

    __tablename__ = "form_versions"
    __table_args__ = (UniqueConstraint("form_id", "version"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    form_id: Mapped[str] = mapped_column(ForeignKey("forms.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Submitter(Base):
    """A person who fills forms from links staff send: a worker with no account. A link names
    its submitter; everything they see is theirs only. ``participant_id`` when the link was made
    for a worker in a room."""

    __tablename__ = "form_submitters"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    display_name: Mapped[str] = mapped_column(String(120))
    language: Mapped[str] = mapped_column(String(16))
    reference: Mapped[str] = mapped_column(String(64), default="")
    """The agency's own reference (e.g. an accident claim number), for staff."""
    participant_id: Mapped[str | None] = mapped_column(
        ForeignKey("participants.id", ondelete="SET NULL"), nullable=True, index=True)
    created_by: Mapped[str] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FormDraft(Base):
    """A submitter's unsent answers to one form, saved while they type; gone once submitted
    (its id stays as the submission's ``draft_key``, which makes a retried submit harmless)."""

    __tablename__ = "form_drafts"
    __table_args__ = (UniqueConstraint("submitter_id", "form_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    submitter_id: Mapped[str] = mapped_column(
        ForeignKey("form_submitters.id", ondelete="CASCADE"), index=True)
    form_id: Mapped[str] = mapped_column(ForeignKey("forms.id", ondelete="CASCADE"))
    version_id: Mapped[str] = mapped_column(ForeignKey("form_versions.id"))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    saves: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Submission(Base):
    """Answers as sent, with the version they answered; its status moves under review."""

    __tablename__ = "form_submissions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    form_id: Mapped[str] = mapped_column(ForeignKey("forms.id", ondelete="CASCADE"), index=True)
    version_id: Mapped[str] = mapped_column(ForeignKey("form_versions.id"))
    submitter_id: Mapped[str] = mapped_column(
        ForeignKey("form_submitters.id", ondelete="CASCADE"), index=True)
    draft_key: Mapped[str] = mapped_column(String(32), unique=True)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    language: Mapped[str] = mapped_column(String(16))
    status: Mapped[SubmissionStatus] = mapped_column(
        _enum(SubmissionStatus, "submission_status"), default=SubmissionStatus.SUBMITTED,
        index=True)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SubmissionEvent(Base):
    """The history of a submission: its arrival, each status change and each comment (staff's,
    or the worker's reply). ``translations`` maps a language to ``{"text", "route"}``."""

    __tablename__ = "form_submission_events"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    submission_id: Mapped[str] = mapped_column(
        ForeignKey("form_submissions.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[EventKind] = mapped_column(_enum(EventKind, "submission_event"))
    from_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    to_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    text: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(16), default="")
    translations: Mapped[dict[str, dict[str, str]]] = mapped_column(JSON, default=dict)
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    """A staff note the worker does not see."""
    staff_id: Mapped[str | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)
    author_name: Mapped[str] = mapped_column(String(120))


class Attachment(Base):
    """An uploaded file of one file field: first on a draft, then on the submission. The bytes
    live under the data directory at ``storage_key``; ``sha256`` is checked when served."""

    __tablename__ = "form_attachments"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    submitter_id: Mapped[str] = mapped_column(
        ForeignKey("form_submitters.id", ondelete="CASCADE"), index=True)
    draft_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    submission_id: Mapped[str | None] = mapped_column(
        ForeignKey("form_submissions.id", ondelete="CASCADE"), nullable=True, index=True)
    field: Mapped[str] = mapped_column(String(40))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FormPush(Base):
    """A form a counselor pushed to a worker during a session. Kept so that the worker's room
    page shows it until it is sent, across reconnects and to staff who join later;
    ``submission_id`` once the worker sent it."""

    __tablename__ = "form_pushes"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[str] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True)
    form_id: Mapped[str] = mapped_column(ForeignKey("forms.id", ondelete="CASCADE"))
    submitter_id: Mapped[str] = mapped_column(
        ForeignKey("form_submitters.id", ondelete="CASCADE"), index=True)
    pushed_by: Mapped[str] = mapped_column(String(120))
    """The counselor's name as shown in the room."""
    pushed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submission_id: Mapped[str | None] = mapped_column(
        ForeignKey("form_submissions.id", ondelete="SET NULL"), nullable=True)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
