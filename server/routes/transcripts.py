"""Transcripts for staff: the page, its exports (JSON, WebVTT, plain text), and the audit log of
who read them. Every view and export is written to the audit log in the request's transaction,
which commits before the response is sent (`DbDep`): nothing is shown that was not logged."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from rooms import audit, lifecycle
from rooms import transcripts as transcripts_repo
from rooms.audit import AuditAction
from rooms.errors import NotFound
from rooms.models import StaffUser, utcnow
from server.assignments import require_room_access
from server.deps import DbDep, ServicesDep, StaffDep, require
from server.i18n import N_
from server.permissions import Action, allowed, role_of_staff
from server.services import Services
from server.templating import render
from server.transcript_export import FORMATS, TranscriptExport, attachment, build_export, filename

router = APIRouter(tags=["transcripts"])
AUDIT_PAGE_SIZE = 200
AUDIT_LABELS = {AuditAction.VIEW_TRANSCRIPT.value: N_("viewed the transcript"),
                AuditAction.EXPORT_TRANSCRIPT.value: N_("exported the transcript"),
                AuditAction.ADMIN_ROOM_ACCESS.value: N_("entered a room not theirs"),
                AuditAction.ADD_COUNSELOR.value: N_("added a counselor"),
                AuditAction.NEW_INVITE_CODE.value: N_("issued a new invitation code")}


async def _export(db: AsyncSession, staff: StaffUser, services: Services,
                  room_id: str) -> TranscriptExport:
    """The room's transcript, once the staff member may read this room's."""
    room = await lifecycle.get_room(db, room_id)
    await require_room_access(db, staff, room.id, "read the transcript")
    lines = await transcripts_repo.with_corrections(db, room.id)
    return build_export(room, lines, timezone=services.settings.timezone, exported_at=utcnow(),
                        exported_by=staff.display_name)


async def _log(db: AsyncSession, staff: StaffUser, export: TranscriptExport, action: AuditAction,
               form: str) -> None:
    await audit.record(db, staff=staff, action=action, room_id=export.room.id,
                       detail={"format": form, "entries": str(len(export.entries))})


@router.get("/staff/rooms/{room_id}/transcript")
async def transcript_page(request: Request, room_id: str, db: DbDep, staff: StaffDep,
                          services: ServicesDep) -> Response:
    """The room's transcript: final captions of the speakers who consented."""
    require(staff, Action.VIEW_TRANSCRIPT)
    export = await _export(db, staff, services, room_id)
    await _log(db, staff, export, AuditAction.VIEW_TRANSCRIPT, "page")
    return render(request, "transcript.html", {
        "staff": staff, "export": export, "room": export.room,
        "may_audit": allowed(role_of_staff(staff.role), Action.VIEW_AUDIT_LOG),
    })


@router.get("/staff/rooms/{room_id}/transcript.{extension}")
async def transcript_file(room_id: str, extension: str, db: DbDep, staff: StaffDep,
                          services: ServicesDep) -> Response:
    """The transcript as a download: `.json` (schema `TranscriptExport`), `.vtt`, `.txt`."""
    require(staff, Action.VIEW_TRANSCRIPT)
    export_format = FORMATS.get(extension)
    if export_format is None:
        raise NotFound(f"no transcript format .{extension}")
    export = await _export(db, staff, services, room_id)
    await _log(db, staff, export, AuditAction.EXPORT_TRANSCRIPT, export_format.extension)
    return Response(export_format.render(export), media_type=export_format.media_type, headers={
        "Content-Disposition": attachment(filename(export, export_format.extension)),
        "Cache-Control": "no-store",
    })


@router.get("/staff/audit")
async def audit_page(request: Request, db: DbDep, staff: StaffDep, services: ServicesDep,
                     room: Annotated[str, Query(max_length=64)] = "") -> Response:
    """Who viewed or exported which transcript, newest first (of one room when chosen)."""
    require(staff, Action.VIEW_AUDIT_LOG)
    rooms = await lifecycle.list_rooms(db)
    return render(request, "audit.html", {
        "staff": staff, "rooms": rooms, "titles": {r.id: r.title for r in rooms},
        "chosen": room, "entries": await audit.recent(db, room_id=room or None,
                                                      limit=AUDIT_PAGE_SIZE),
        "limit": AUDIT_PAGE_SIZE, "labels": AUDIT_LABELS, "timezone": services.settings.timezone,
        "zone": ZoneInfo(services.settings.timezone),
    })

