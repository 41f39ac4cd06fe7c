"""What the worker's and the staff's form pages share: a submission's history as each side
reads it (comments in the reader's language where a translation exists), comment translation,
and serving an attachment safely."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from rooms import submissions as submissions_repo
from rooms.form_models import Attachment, EventKind, SubmissionEvent, SubmissionStatus
from server.forms.attachments import AttachmentDamaged, content_disposition
from server.forms.kit import FormsKit
from server.forms.messages import Messages
from server.forms.texts import machine_translation
from server.i18n import N_, gettext
from server.services import Services

STAFF_STATUS = {  # catalog messages: pages show them with _()
    SubmissionStatus.SUBMITTED: N_("Submitted"),
    SubmissionStatus.UNDER_REVIEW: N_("Under review"),
    SubmissionStatus.NEEDS_INFO: N_("More information needed"),
    SubmissionStatus.APPROVED: N_("Approved"),
    SubmissionStatus.REJECTED: N_("Rejected"),
}


@dataclass(frozen=True, slots=True)
class ShownEvent:
    at: datetime
    kind: str
    author: str
    by_staff: bool
    headline: str
    text: str
    original: str
    machine: bool
    internal: bool


def worker_status(status: str, messages: Messages) -> str:
    return messages(f"status_{status}")


def worker_events(events: list[SubmissionEvent], language: str, messages: Messages
                  ) -> list[ShownEvent]:
    """The history a worker reads: status changes and messages, in their language."""
    shown = []
    for event in events:
        if event.internal or event.kind is EventKind.SUBMITTED:
            continue
        text, original, machine = _in_language(event, language)
        if event.kind is EventKind.FILE:
            headline, text, original, machine = messages("file_added"), event.text, "", False
        elif event.kind is EventKind.STATUS:
            status = worker_status(event.to_status or "", messages)
            headline = messages("status_changed", status=status)
        else:
            headline = ""
        author = messages("counselor") if event.staff_id else messages("you")
        shown.append(ShownEvent(event.at, event.kind.value, author, event.staff_id is not None,
                                headline, text, original, machine, False))
    return shown


def staff_events(events: list[SubmissionEvent], language: str) -> list[ShownEvent]:
    shown = []
    for event in events:
        text, original, machine = _in_language(event, language)
        if event.kind is EventKind.SUBMITTED:
            headline = gettext("Submitted")
        elif event.kind is EventKind.STATUS:
            old = gettext(STAFF_STATUS[SubmissionStatus(event.from_status or "submitted")])
            new = gettext(STAFF_STATUS[SubmissionStatus(event.to_status or "submitted")])
            headline = gettext("Status: %(old)s → %(new)s") % {"old": old, "new": new}
        elif event.kind is EventKind.FILE:
            headline, text, original, machine = gettext("File added"), event.text, "", False
        else:
            headline = gettext("Internal note") if event.internal else gettext("Message")
        shown.append(ShownEvent(event.at, event.kind.value, event.author_name or gettext("Worker"),
                                event.staff_id is not None, headline, text, original, machine,
                                event.internal))
    return shown


def _in_language(event: SubmissionEvent, language: str) -> tuple[str, str, bool]:
    """(text shown, the original when it differs, machine-translated?)"""
    if not event.text or event.language == language:
        return event.text, "", False
    translated = event.translations.get(language)
    if translated is None:
        return event.text, "", False
    return translated["text"], event.text, translated.get("route", "") != "stored"


async def translate_event(db: AsyncSession, services: Services, event: SubmissionEvent,
                          target: str) -> None:
    """Keep a machine translation of a comment into ``target`` beside it (none when no model
    serves the pair: the reader then sees the original)."""
    if not event.text or not target or target == event.language:
        return
    done = await machine_translation(services.translations, event.text, event.language, target)
    if done is not None:
        await submissions_repo.add_event_translations(
            db, event, {target: {"text": done[0], "route": done[1]}})


async def file_response(kit: FormsKit, attachment: Attachment) -> Response:
    """The file as a download, never shown inline or sniffed into something runnable."""
    try:
        data = await kit.store.read(attachment.storage_key, attachment.sha256)
    except (FileNotFoundError, AttachmentDamaged):
        return Response("This file is missing or damaged on the server.", status_code=410,
                        media_type="text/plain")
    return Response(data, media_type=attachment.content_type, headers={
        "Content-Disposition": content_disposition(attachment.filename),
        "Content-Security-Policy": "sandbox; default-src 'none'",
        "Cache-Control": "private, no-store",
    })
