"""SQLAlchemy models of the program hall: public pages about the agency's programs, each with
its text in one or more languages (Markdown written by staff)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from rooms.models import Base, UTCDateTime, new_id, utcnow


class HallPage(Base):
    """A program page: where it stands in the hall, the form people apply with (a form's
    slug, may be empty) and the language its content is first written in (``language``: the
    source of machine translations into languages with no text of their own)."""

    __tablename__ = "hall_pages"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    form_slug: Mapped[str] = mapped_column(String(64), default="")
    language: Mapped[str] = mapped_column(String(16))
    published: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class HallPageText(Base):
    """A page's text in one language, written by staff: a title, a one-line summary and a
    Markdown body (rendered and sanitized when shown, never stored as HTML)."""

    __tablename__ = "hall_page_texts"
    __table_args__ = (UniqueConstraint("page_id", "language"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    page_id: Mapped[str] = mapped_column(ForeignKey("hall_pages.id", ondelete="CASCADE"),
                                         index=True)
    language: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)
