"""Room placement with a real Redis (`server/placement.py`) and presence after a node died
(`rooms/node_sockets.py`, `server/presence.py`) on a real database.

Nodes here are `RedisPlacement`s in one process with short leases; a node "dies" by stopping
without handing anything over (`aclose(hand_over=False)`): its heartbeat key and leases lapse
as those of a killed process do.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rooms import invites, lifecycle, node_sockets, participants, staff
from rooms.bus import InProcessBus
from rooms.db import make_engine, make_sessionmaker
from rooms.models import Participant, RoomRole, RoomStatus, StaffRole, utcnow
from server.events import RoomEvents
from server.placement import LocalPlacement, Owner, RedisPlacement
from server.presence import Presence

pytestmark = pytest.mark.redis

LEASE_MS = 900
NODE_TTL_MS = 600


@pytest.fixture
async def make_node(redis_url: str) -> AsyncIterator[Callable[..., RedisPlacement]]:
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    made: list[RedisPlacement] = []

    def make(name: str, rooms_here: Callable[[], set[str]] = set,
             url: str | None = "default") -> RedisPlacement:
        node = RedisPlacement(redis_url, f"http://{name}.example.org" if url == "default" else url,
                              rooms_here, prefix=prefix, lease_ms=LEASE_MS,
                              node_ttl_ms=NODE_TTL_MS)
        made.append(node)
        return node

    yield make
    for node in made:
        await node.aclose(hand_over=False)


async def _started(*nodes: RedisPlacement) -> None:
    for node in nodes:
        await node.start()


async def test_the_first_node_asked_owns_the_room_and_the_others_send_sockets_there(
    make_node: Callable[..., RedisPlacement],
) -> None:
    a, b = make_node("a"), make_node("b")
    await _started(a, b)
    assert await a.owner("room-1") is None  # a serves it
    assert await b.owner("room-1") == Owner(a.node_id, "http://a.example.org")
    assert await a.owner("room-1") is None  # asked again: still a's
    assert await b.owner("room-2") is None  # another room, another owner


async def test_parallel_claims_make_exactly_one_owner(
    make_node: Callable[..., RedisPlacement],
) -> None:
    nodes = [make_node(f"n{i}") for i in range(8)]
    await _started(*nodes)
    answers = await asyncio.gather(*(n.owner("contested") for n in nodes))
    winners = [n for n, answer in zip(nodes, answers, strict=True) if answer is None]
    assert len(winners) == 1
    assert {a for a in answers if a is not None} == {
        Owner(winners[0].node_id, winners[0].node_url)}


async def test_a_live_owner_keeps_renewing_its_room_past_the_lease(
    make_node: Callable[..., RedisPlacement],
) -> None:
    a, b = make_node("a", rooms_here=lambda: {"room"}), make_node("b")
    await _started(a, b)
    assert await a.owner("room") is None
    await asyncio.sleep(3 * LEASE_MS / 1000)  # three leases: renewed, not lapsed
    assert await b.owner("room") == Owner(a.node_id, a.node_url)


async def test_a_dead_owners_room_moves_to_the_next_node_once_its_heartbeat_lapses(
    make_node: Callable[..., RedisPlacement],
) -> None:
    a, b = make_node("a", rooms_here=lambda: {"room"}), make_node("b")
    await _started(a, b)
    assert await a.owner("room") is None
    await a.aclose(hand_over=False)  # killed: nothing handed over
    assert await b.owner("room") == Owner(a.node_id, a.node_url)  # not yet known dead
    async with asyncio.timeout(5):
        while (owner := await b.owner("room")) is not None:
            assert owner.node_id == a.node_id
            await asyncio.sleep(0.05)
    assert await b.alive({a.node_id, b.node_id}) == {b.node_id}


async def test_a_node_that_lost_its_lease_hands_its_sockets_to_the_new_owner(
    make_node: Callable[..., RedisPlacement], redis_url: str,
) -> None:
    a, b = make_node("a", rooms_here=lambda: {"room"}), make_node("b")
    await _started(a, b)
    lost: asyncio.Queue[tuple[str, Owner | None]] = asyncio.Queue()
    a.on_lost(lambda room, owner: lost.put_nowait((room, owner)))
    assert await a.owner("room") is None
    # a froze past its heartbeat and b took the room meanwhile
    await b._redis.set(b._room_key("room"), f"{b.node_id} {b.node_url}", px=LEASE_MS)
    assert await asyncio.wait_for(lost.get(), 5) == ("room", Owner(b.node_id, b.node_url))
    assert await b.owner("room") is None


async def test_draining_hands_every_room_to_a_live_peer_and_claims_nothing(
    make_node: Callable[..., RedisPlacement],
) -> None:
    a, b = make_node("a", rooms_here=lambda: {"r1", "r2"}), make_node("b")
    await _started(a, b)
    assert await a.owner("r1") is None and await a.owner("r2") is None
    moved = await a.drain()
    assert moved == {"r1": Owner(b.node_id, b.node_url), "r2": Owner(b.node_id, b.node_url)}
    assert await b.owner("r1") is None and await b.owner("r2") is None  # b's now
    assert await a.owner("r1") == Owner(b.node_id, b.node_url)
    assert await a.owner("r3") == Owner("", None)  # a draining node takes no room


async def test_a_node_without_an_address_takes_no_room(
    make_node: Callable[..., RedisPlacement],
) -> None:
    plain, addressed = make_node("plain", url=None), make_node("b")
    await _started(plain, addressed)
    assert await plain.owner("room") is None  # served here, as without placement
    assert await addressed.owner("room") is None  # nobody held it: b takes it
    assert await plain.owner("room") == Owner(addressed.node_id, addressed.node_url)


# -- presence after a node died -----------------------------------------------------------


@pytest.fixture
async def sessions(db_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(db_url)
    yield make_sessionmaker(engine)
    await engine.dispose()


async def _people(sessions: async_sessionmaker[AsyncSession], count: int
                  ) -> tuple[str, list[str]]:
    async with sessions() as s, s.begin():
        user = await staff.create_staff(s, email=f"{uuid.uuid4().hex[:6]}@example.org",
                                        display_name="Guide", role=StaffRole.COUNSELOR,
                                        password_hash="x")
        room = await lifecycle.create_room(s, title="Placement", starts_at=utcnow(),
                                           languages=["en"], created_by=user.id)
        await lifecycle.transition(s, room, RoomStatus.OPEN)
        ids = []
        for _ in range(count):
            invite = await invites.create_invite(s, room=room, role=RoomRole.WORKER, label="",
                                                 code_hash="h", created_by=user.id,
                                                 expires_at=utcnow() + timedelta(1))
            person = await participants.join_with_invite(s, room=room, invite=invite,
                                                         display_name="Mai", language="vi")
            ids.append(person.id)
        return room.id, ids


async def _connections(sessions: async_sessionmaker[AsyncSession], ids: list[str]) -> list[int]:
    async with sessions() as s:
        return [(await s.get(Participant, pid)).connections for pid in ids]  # type: ignore[union-attr]


async def test_a_dead_nodes_sockets_are_counted_out_once_even_when_closed_or_swept_twice(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    room_id, (mai, an) = await _people(sessions, 2)
    async with sessions() as s, s.begin():
        for socket_id, node, pid in [("s1", "dead", mai), ("s2", "dead", mai),
                                     ("s3", "live", mai), ("s4", "dead", an)]:
            await node_sockets.opened(s, socket_id=socket_id, node_id=node,
                                      participant_id=pid, room_id=room_id)
    assert await _connections(sessions, [mai, an]) == [3, 1]
    async with sessions() as s, s.begin():
        assert await node_sockets.nodes(s) == {"dead", "live"}
        assert await node_sockets.sweep(s, {"dead"}) == {room_id}
    async with sessions() as s, s.begin():
        assert await node_sockets.sweep(s, {"dead"}) == set()  # a second sweeper: nothing
        assert await node_sockets.closed(s, "s1") is False  # its node closing it late
        assert await node_sockets.closed(s, "s3") is True
    assert await _connections(sessions, [mai, an]) == [0, 0]


async def test_a_node_started_alone_counts_out_the_sockets_of_the_node_before_it(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """A server killed with a socket open and started again (no Redis): the person whose only
    socket died with it is not online for ever."""
    room_id, (mai,) = await _people(sessions, 1)
    async with sessions() as s, s.begin():
        await node_sockets.opened(s, socket_id="old", node_id="killed", participant_id=mai,
                                  room_id=room_id)
    presence = Presence(sessions, LocalPlacement(), RoomEvents(InProcessBus(), sessions))
    assert await presence.sweep() == {room_id}
    assert await _connections(sessions, [mai]) == [0]


async def test_a_node_alone_leaves_a_node_started_after_it_alone(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Two Redis-less servers on one database (a mistake, but one the tests make): the first
    used to count the second's people out every sweep, while they talked."""
    room_id, (mai,) = await _people(sessions, 1)
    events = RoomEvents(InProcessBus(), sessions)
    first = Presence(sessions, LocalPlacement(), events)
    assert await first.sweep() == set()  # its first look: nobody before it
    second = Presence(sessions, LocalPlacement(), events)
    await second.opened(mai, room_id)
    assert await first.sweep() == set()
    assert await _connections(sessions, [mai]) == [1]


async def test_presence_waits_for_a_node_to_stay_gone_before_sweeping_it(
    sessions: async_sessionmaker[AsyncSession], make_node: Callable[..., RedisPlacement],
) -> None:
    room_id, (mai, an) = await _people(sessions, 2)
    a, b = make_node("a"), make_node("b")
    await _started(a, b)
    events = RoomEvents(InProcessBus(), sessions)
    on_b = Presence(sessions, b, events)
    async with sessions() as s, s.begin():
        await node_sockets.opened(s, socket_id="on-a", node_id=a.node_id, participant_id=mai,
                                  room_id=room_id)
        await node_sockets.opened(s, socket_id="on-b", node_id=b.node_id, participant_id=an,
                                  room_id=room_id)
    assert await on_b.sweep() == set()  # a is alive
    await a.aclose(hand_over=False)
    async with asyncio.timeout(10):
        while not await on_b.sweep():  # noqa: ASYNC110 - each sweep asks Redis and the database
            await asyncio.sleep(0.1)
    assert await _connections(sessions, [mai, an]) == [0, 1]
