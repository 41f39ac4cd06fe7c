"""Open room sockets per server node, behind presence (`participants.connections`).

A socket is a row naming its node, written in the transaction that counts it into its
participant's `connections`, and deleted in the one that counts it out. When a node dies its
sockets never close: a live node sweeps the dead node's rows and takes them out of the counts.
Every delete returns the rows it removed, and only those are counted out, so a socket closed
by its node while another node sweeps it, or two nodes sweeping the same dead node, count it
out once.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from rooms.models import NodeSocket, Participant


async def opened(session: AsyncSession, *, socket_id: str, node_id: str, participant_id: str,
                 room_id: str) -> None:
    """A socket of the participant is open on `node_id`: they are online."""
    session.add(NodeSocket(id=socket_id, node_id=node_id, participant_id=participant_id,
                           room_id=room_id))
    await _count(session, participant_id, +1, left_at=None)  # back, if they had left


async def closed(session: AsyncSession, socket_id: str) -> bool:
    """The socket closed; False when it was not counted any more (swept meanwhile)."""
    query = delete(NodeSocket).where(NodeSocket.id == socket_id).returning(
        NodeSocket.participant_id)
    gone = list((await session.execute(query)).scalars())
    for participant_id in gone:
        await _count(session, participant_id, -1)
    return bool(gone)


async def nodes(session: AsyncSession) -> set[str]:
    """The nodes that hold sockets, by the database."""
    return set((await session.execute(select(NodeSocket.node_id).distinct())).scalars())


async def sweep(session: AsyncSession, node_ids: set[str]) -> set[str]:
    """Count out every socket of these (dead) nodes; the rooms whose presence changed."""
    if not node_ids:
        return set()
    query = delete(NodeSocket).where(NodeSocket.node_id.in_(node_ids)).returning(
        NodeSocket.participant_id, NodeSocket.room_id)
    rows = [(row[0], row[1]) for row in await session.execute(query)]
    for participant_id, sockets in Counter(pid for pid, _ in rows).items():
        await _count(session, participant_id, -sockets)
    return {room_id for _, room_id in rows}


async def _count(session: AsyncSession, participant_id: str, delta: int,
                 **also: object) -> None:
    """``delta`` sockets more (or fewer), and ``also`` set in the same update."""
    await session.execute(
        update(Participant).where(Participant.id == participant_id)
        .values(connections=Participant.connections + delta, **also))
