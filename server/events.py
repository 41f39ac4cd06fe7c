"""Room events published on the bus: a wire message plus the audience it is for."""

from __future__ import annotations

import logging
from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rooms import interpreters as interpreters_repo
from rooms import participants as participants_repo
from rooms.bus import EventBus
from rooms.models import Admission, Participant, Room
from server.ws import protocol as p

log = logging.getLogger(__name__)

ALL = {"kind": "all"}
ADMITTED = {"kind": "admitted"}
HOSTS = {"kind": "hosts"}


def to_participant(participant_id: str) -> dict[str, str]:
    return {"kind": "participant", "id": participant_id}


def channel(room_id: str) -> str:
    return f"room:{room_id}"


def participant_info(participant: Participant,
                     interprets: list[str] | None = None) -> p.ParticipantInfo:
    return p.ParticipantInfo(
        id=participant.id, name=participant.display_name, role=participant.role.value,
        language=participant.language,
        reading_language=participants_repo.reading_language(participant),
        online=participant.connections > 0,
        left=participant.connections <= 0 and participant.left_at is not None,
        transcription_consent=participant.transcription_consent,
        interprets=list(interprets or []),
    )


def room_info(room: Room) -> p.RoomInfo:
    return p.RoomInfo(
        id=room.id, title=room.title, status=room.status.value, auto_admit=room.auto_admit,
        languages=list(room.languages),
    )


class RoomEvents:
    """Publishes what changed in a room to every node; never fails the caller's action."""

    def __init__(self, bus: EventBus, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._bus = bus
        self._sessions = sessions

    async def send(self, room_id: str, audience: dict[str, str], message: BaseModel) -> None:
        event: dict[str, Any] = {"to": audience, "msg": message.model_dump(mode="json")}
        await self._bus.publish(channel(room_id), event)

    async def people_changed(self, room_id: str) -> None:
        """Send the participant list to those admitted and the waiting list to hosts."""
        async with self._sessions() as session:
            everyone = await participants_repo.list_participants(session, room_id)
            assigned = {row.staff_id: row.languages
                        for row, _ in await interpreters_repo.of_room(session, room_id)}
        admitted = [participant_info(x, assigned.get(x.staff_id or ""))
                    for x in everyone if x.admission is Admission.ADMITTED]
        waiting = [participant_info(x) for x in everyone if x.admission is Admission.WAITING]
        await self.send(room_id, ADMITTED, p.Presence(participants=admitted))
        await self.send(room_id, HOSTS, p.WaitingList(waiting=waiting))

    async def room_changed(self, room: Room) -> None:
        await self.send(room.id, ALL, p.RoomState(room=room_info(room)))

    async def admitted(self, room_id: str, people: list[Participant]) -> None:
        for person in people:
            await self.send(room_id, ALL, p.LobbyAdmitted(participant_id=person.id))
        await self.people_changed(room_id)

    async def ended(self, room_id: str) -> None:
        await self.send(room_id, ALL, p.RoomEnded())
