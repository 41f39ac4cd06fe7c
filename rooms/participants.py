"""Participants of a room: joining, the lobby (admit, deny), removal, connection counts."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from rooms import invites
from rooms.errors import Conflict, InviteClaimed, NotFound, RoomNotOpen
from rooms.lifecycle import ensure_not_ended
from rooms.models import (
    Admission,
    Invite,
    Participant,
    Room,
    RoomRole,
    RoomStatus,
    StaffRole,
    StaffUser,
    utcnow,
)

USED_INVITATION = ("This invitation has already been used by the person who joined with it. "
                   "If that was not you, ask your counselor for a new invitation.")


def _initial_admission(room: Room) -> Admission:
    if room.auto_admit and room.status is RoomStatus.OPEN:
        return Admission.ADMITTED
    return Admission.WAITING


async def join_with_invite(
    session: AsyncSession,
    *,
    room: Room,
    invite: Invite,
    display_name: str,
    language: str,
    transcription_consent: bool | None = None,
) -> Participant:
    """The participant for an invite: one invite admits one person. Joining claims the
    invitation atomically (the first of parallel joins wins); the person comes back with their
    browser's session, and nobody joins with the invitation again (`InviteClaimed`)."""
    ensure_not_ended(room)
    if not await invites.claim(session, invite.id):
        raise InviteClaimed(USED_INVITATION)
    participant = Participant(
        room_id=room.id, role=invite.role, display_name=display_name.strip(),
        language=language, reading_language=language, admission=_initial_admission(room),
        invite_id=invite.id, connections=0,
        transcription_consent=transcription_consent,
    )
    if participant.admission is Admission.ADMITTED:
        participant.admitted_at = utcnow()
    session.add(participant)
    await session.flush()
    return participant


async def of_invite(session: AsyncSession, invite_id: str) -> Participant | None:
    """The person who joined with this invitation, if anyone did."""
    query = select(Participant).where(Participant.invite_id == invite_id)
    return (await session.execute(query)).scalars().first()


def staff_room_role(staff: StaffUser) -> RoomRole:
    return RoomRole.INTERPRETER if staff.role is StaffRole.INTERPRETER else RoomRole.HOST


async def join_as_staff(
    session: AsyncSession, *, room: Room, staff: StaffUser, language: str = ""
) -> Participant:
    """Staff enter their own room directly, without the lobby."""
    ensure_not_ended(room)
    query = select(Participant).where(
        Participant.room_id == room.id, Participant.staff_id == staff.id
    )
    existing = (await session.execute(query)).scalar_one_or_none()
    if existing is not None:
        return existing
    participant = Participant(
        room_id=room.id, role=staff_room_role(staff), display_name=staff.display_name,
        language=language, reading_language=language, admission=Admission.ADMITTED,
        staff_id=staff.id,
        admitted_at=utcnow(), connections=0,
    )
    session.add(participant)
    await session.flush()
    return participant


async def staff_participant(
    session: AsyncSession, room_id: str, staff_id: str
) -> Participant | None:
    """A staff member's participant in the room, if they entered it."""
    query = select(Participant).where(Participant.room_id == room_id,
                                      Participant.staff_id == staff_id)
    return (await session.execute(query)).scalar_one_or_none()


async def get_participant(session: AsyncSession, room_id: str, participant_id: str) -> Participant:
    participant = await session.get(Participant, participant_id)
    if participant is None or participant.room_id != room_id:
        raise NotFound("no such participant in this room")
    return participant


async def list_participants(
    session: AsyncSession, room_id: str, admission: Admission | None = None
) -> list[Participant]:
    query = select(Participant).where(Participant.room_id == room_id)
    if admission is not None:
        query = query.where(Participant.admission == admission)
    query = query.order_by(Participant.joined_at, Participant.id)
    return list((await session.execute(query)).scalars())


async def admit(session: AsyncSession, room: Room, participant: Participant) -> Participant:
    ensure_not_ended(room)
    if room.status is not RoomStatus.OPEN:
        raise RoomNotOpen("open the room before admitting people")
    if participant.admission is not Admission.WAITING:
        raise Conflict(f"this person is not waiting (they are {participant.admission.value})")
    participant.admission = Admission.ADMITTED
    participant.admitted_at = utcnow()
    await session.flush()
    return participant


async def deny(session: AsyncSession, room: Room, participant: Participant) -> Participant:
    ensure_not_ended(room)
    if participant.admission is not Admission.WAITING:
        raise Conflict(f"this person is not waiting (they are {participant.admission.value})")
    participant.admission = Admission.DENIED
    await session.flush()
    return participant


async def remove(session: AsyncSession, room: Room, participant: Participant) -> Participant:
    if participant.staff_id is not None:
        raise Conflict("staff members cannot be removed from a room")
    participant.admission = Admission.REMOVED
    await session.flush()
    return participant


async def admit_all_waiting(session: AsyncSession, room: Room) -> list[Participant]:
    """Admit everyone in the lobby (auto-admit switched on, or an auto-admit room opened)."""
    if room.status is not RoomStatus.OPEN:
        return []
    waiting = await list_participants(session, room.id, Admission.WAITING)
    for participant in waiting:
        participant.admission = Admission.ADMITTED
        participant.admitted_at = utcnow()
    await session.flush()
    return waiting


async def count_connection(session: AsyncSession, participant_id: str, delta: int) -> None:
    """Track how many sockets a participant holds (across nodes) for presence."""
    await session.execute(
        update(Participant)
        .where(Participant.id == participant_id)
        .values(connections=Participant.connections + delta)
    )


async def waiting_by_room(
    session: AsyncSession, room_ids: list[str]
) -> dict[str, list[Participant]]:
    """Everyone waiting in the lobbies of these rooms, in one query."""
    query = (
        select(Participant)
        .where(Participant.room_id.in_(room_ids), Participant.admission == Admission.WAITING)
        .order_by(Participant.joined_at, Participant.id)
    )
    waiting: dict[str, list[Participant]] = {room_id: [] for room_id in room_ids}
    for person in (await session.execute(query)).scalars():
        waiting[person.room_id].append(person)
    return waiting


async def set_transcription_consent(
    session: AsyncSession, participant: Participant, consent: bool
) -> Participant:
    participant.transcription_consent = consent
    await session.flush()
    return participant


async def leave(session: AsyncSession, participant: Participant) -> None:
    """They pressed Leave: others see that they left, not that their connection dropped."""
    participant.left_at = utcnow()
    await session.flush()


def reading_language(participant: Participant) -> str:
    """The language a participant reads captions and chat in (their spoken one by default)."""
    return participant.reading_language or participant.language


async def set_reading_language(
    session: AsyncSession, participant: Participant, language: str
) -> Participant:
    participant.reading_language = language
    await session.flush()
    return participant


async def reading_languages(
    session: AsyncSession, room_id: str, *, online_only: bool = False
) -> set[str]:
    """The reading languages of the room's admitted participants (those with a socket open,
    with ``online_only``): what captions and chat must be translated into."""
    query = select(Participant.reading_language, Participant.language).where(
        Participant.room_id == room_id, Participant.admission == Admission.ADMITTED
    )  # two columns, not the participants: asked again whenever the room's people change
    if online_only:
        query = query.where(Participant.connections > 0)
    rows = await session.execute(query)
    return {language for reading, spoken in rows if (language := reading or spoken)}
