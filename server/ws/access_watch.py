"""The database decides who stays connected: every `SWEEP_S`, one query over this node's sockets
finds participants who were removed or denied and rooms that ended, and their sockets get the
final message and close.

The removal event on the bus reaches sockets at once when all goes well; this sweep is what
makes a removal hold everywhere within a second when it does not: a socket that attached
while the removal was being published, a node that missed the event while Redis was away, a
removal made on another node while Redis was down.
"""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rooms.models import Admission, Participant, Room, RoomStatus
from server.events import to_participant
from server.periodic import Periodic
from server.ws import protocol as p
from server.ws.connection import Connection
from server.ws.hub import RoomHub

SWEEP_S = 0.5
DENIED_MESSAGE = "The host could not admit you to this session."


class AccessWatch:
    def __init__(self, hub: RoomHub, sessions: async_sessionmaker[AsyncSession],
                 interval: float = SWEEP_S) -> None:
        self._hub = hub
        self._sessions = sessions
        # the database away: logged, and tried again at the next sweep
        self._sweeping = Periodic(self.sweep, interval, name="access-watch")

    def start(self) -> None:
        self._sweeping.start()

    async def aclose(self) -> None:
        await self._sweeping.aclose()

    async def check_new(self, connection: Connection) -> None:
        """A socket that has just started to hear its room: what changed between its
        authentication and now was published before it could hear it. Shut out if it was
        removed, denied or the room ended; told it was admitted if it was admitted meanwhile."""
        if await self.sweep(only=connection.participant_id) or connection.admitted:
            return
        async with self._sessions() as session:
            admission = (await session.execute(
                select(Participant.admission).where(
                    Participant.id == connection.participant_id))).scalar_one_or_none()
        if admission is Admission.ADMITTED:
            pid = connection.participant_id
            connection.deliver({"to": to_participant(pid), "msg": p.LobbyAdmitted(
                participant_id=pid).model_dump(mode="json")})

    async def sweep(self, only: str | None = None) -> int:
        """Close the sockets of this node (``only``: of that participant) that may no longer be
        here; returns how many participants were shut out."""
        connected = {only} if only is not None else self._hub.participant_ids()
        if not connected:
            return 0
        query = (select(Participant.id, Participant.admission, Room.status)
                 .join(Room, Room.id == Participant.room_id)
                 .where(Participant.id.in_(sorted(connected)),
                        or_(Participant.admission.in_([Admission.REMOVED, Admission.DENIED]),
                            Room.status == RoomStatus.ENDED)))
        async with self._sessions() as session:
            revoked = (await session.execute(query)).all()
        for participant_id, admission, status in revoked:
            self._hub.deliver_local(participant_id, _final(participant_id, admission, status))
        return len(revoked)


def _final(participant_id: str, admission: Admission, status: RoomStatus) -> BaseModel:
    if status is RoomStatus.ENDED:
        return p.RoomEnded()
    if admission is Admission.DENIED:
        return p.LobbyDenied(participant_id=participant_id, message=DENIED_MESSAGE)
    return p.Removed(participant_id=participant_id)
