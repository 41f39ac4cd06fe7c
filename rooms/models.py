"""SQLAlchemy ORM models of the counseling domain."""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_id() -> str:
    return uuid.uuid4().hex


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime stored as UTC on every backend (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass an aware datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class StaffRole(enum.StrEnum):
    ADMIN = "admin"
    COUNSELOR = "counselor"
    INTERPRETER = "interpreter"


class RoomRole(enum.StrEnum):
    """A participant's role inside one room."""

    HOST = "host"
    INTERPRETER = "interpreter"
    WORKER = "worker"
    OBSERVER = "observer"


INVITABLE_ROLES = (RoomRole.WORKER, RoomRole.INTERPRETER, RoomRole.OBSERVER)


class RoomStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    OPEN = "open"
    ENDED = "ended"


class Admission(enum.StrEnum):
    WAITING = "waiting"
    ADMITTED = "admitted"
    DENIED = "denied"
    REMOVED = "removed"


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(cls, name=name, native_enum=False, length=16, validate_strings=True,
                values_callable=lambda e: [m.value for m in e])


class StaffUser(Base):
    __tablename__ = "staff_users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[StaffRole] = mapped_column(_enum(StaffRole, "staff_role"))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ui_locale: Mapped[str | None] = mapped_column(String(16), nullable=True, default=None)
    """The interface language they chose in their account (None: their browser's)."""


class Room(Base):
    __tablename__ = "rooms"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[RoomStatus] = mapped_column(
        _enum(RoomStatus, "room_status"), default=RoomStatus.SCHEDULED
    )
    auto_admit: Mapped[bool] = mapped_column(Boolean, default=False)
    chat_seq: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Invite(Base):
    __tablename__ = "invites"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    role: Mapped[RoomRole] = mapped_column(_enum(RoomRole, "room_role"))
    label: Mapped[str] = mapped_column(String(120), default="")
    code_hash: Mapped[str] = mapped_column(String(255))
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """When the first browser joined with it; a claimed invitation is that browser's alone."""
    short_code: Mapped[str | None] = mapped_column(String(16), nullable=True, unique=True,
                                                   index=True)
    """The code of its short link, `/j/{short_code}` (`rooms.invites.new_short_code`)."""
    language: Mapped[str] = mapped_column(String(16), default="")
    """The language of the ready-to-send message (the invitee's), chosen when issued."""


class Participant(Base):
    __tablename__ = "participants"
    __table_args__ = (UniqueConstraint("room_id", "staff_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    role: Mapped[RoomRole] = mapped_column(_enum(RoomRole, "room_role"))
    display_name: Mapped[str] = mapped_column(String(120))
    language: Mapped[str] = mapped_column(String(16), default="")
    """The language the participant speaks (captions of their voice are recognized in it)."""
    reading_language: Mapped[str] = mapped_column(String(16), default="")
    """The language captions and chat are shown to them in ("" = their spoken language)."""
    admission: Mapped[Admission] = mapped_column(_enum(Admission, "admission"))
    invite_id: Mapped[str | None] = mapped_column(ForeignKey("invites.id"), nullable=True)
    staff_id: Mapped[str | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)
    connections: Mapped[int] = mapped_column(Integer, default=0)
    # None: not asked yet. Only people who said yes are ever transcribed.
    transcription_consent: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    admitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """When they last pressed Leave; None again once a socket of theirs opens."""


class ChatMessage(Base):
    __tablename__ = "chat_messages"
    __table_args__ = (
        UniqueConstraint("room_id", "seq"),
        UniqueConstraint("sender_id", "client_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    sender_id: Mapped[str] = mapped_column(ForeignKey("participants.id"))
    client_id: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(16), default="")
    """The language the message was written in (declared by the sender's language)."""
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ChatTranslation(Base):
    """A machine translation of one chat message into one reader's language, kept beside it so
    history, reconnects and other nodes show the same text."""

    __tablename__ = "chat_translations"
    __table_args__ = (UniqueConstraint("message_id", "language"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    message_id: Mapped[str] = mapped_column(ForeignKey("chat_messages.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    route: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TranscriptEntry(Base):
    """One final caption of a consenting speaker; times are seconds on the session's clock
    (from the room's opening); ``translations`` maps a language to
    ``{"text": ..., "route": ...}``."""

    __tablename__ = "transcript_entries"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    speaker_id: Mapped[str] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    speaker_name: Mapped[str] = mapped_column(String(120))
    language: Mapped[str] = mapped_column(String(16), default="")
    text: Mapped[str] = mapped_column(Text)
    t_start: Mapped[float] = mapped_column(Float)
    t_end: Mapped[float] = mapped_column(Float)
    utterance_id: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True,
                                                     index=True)
    translations: Mapped[dict[str, dict[str, str]]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class RoomInterpreter(Base):
    """An interpreter assigned to a room (by staff, when scheduling or from the room page): only
    assigned interpreters may correct its captions or speak into its language channels."""

    __tablename__ = "room_interpreters"
    __table_args__ = (UniqueConstraint("room_id", "staff_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff_users.id"))
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    assigned_by: Mapped[str] = mapped_column(ForeignKey("staff_users.id"))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RoomStaff(Base):
    """A counselor added to a room by its host: besides the room's creator, the counselors who
    may open, run and read it (admins reach every room, audited)."""

    __tablename__ = "room_staff"
    __table_args__ = (UniqueConstraint("room_id", "staff_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff_users.id"))
    added_by: Mapped[str] = mapped_column(ForeignKey("staff_users.id"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class InviteReveal(Base):
    """A new invitation's link and code, shown once to the staff member who issued it: the
    session cookie carries only this row's opaque id, and reading the row deletes it."""

    __tablename__ = "invite_reveals"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    invite_id: Mapped[str] = mapped_column(ForeignKey("invites.id", ondelete="CASCADE"))
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class CaptionCorrection(Base):
    """An interpreter's correction of one final caption (``utterance_id``) in one language: the
    caption's own language corrects the source text, another one a translation. Every
    correction is kept; the latest of an (utterance, language) is the one shown."""

    __tablename__ = "caption_corrections"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    utterance_id: Mapped[str] = mapped_column(String(64), index=True)
    language: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    replaced_text: Mapped[str] = mapped_column(Text)
    """What the readers saw before (the machine text, or an earlier correction)."""
    corrected_by: Mapped[str] = mapped_column(ForeignKey("participants.id"))
    corrected_by_name: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    retranslated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """A source correction's re-translation into the room's other languages was stored then
    (None: not yet, or a translation's correction)."""


class AuditEntry(Base):
    """Who looked at or exported what (transcripts): admins read these."""

    __tablename__ = "audit_log"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    staff_id: Mapped[str | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)
    staff_name: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(64))
    room_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    detail: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)


class NodeSocket(Base):
    """One open room socket and the server node that holds it: presence counts only the
    sockets of live nodes (a node that died has its rows swept, `rooms.node_sockets`)."""

    __tablename__ = "node_sockets"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    node_id: Mapped[str] = mapped_column(String(32), index=True)
    participant_id: Mapped[str] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
