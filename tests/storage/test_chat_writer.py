"""`rooms.chat_writer` on SQLite and on a real PostgreSQL: numbering, deduplication, refusals,
group commits, two nodes on one database, and nothing lost on close or when a caller gives up."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from rooms import chat, invites, lifecycle, participants, staff
from rooms.chat_writer import MAX_BATCH, ChatWriter, Post, StoredMessage, open_chat_writer
from rooms.db import make_engine
from rooms.errors import NotAdmitted, NotFound, RoomEnded
from rooms.models import Participant, Room, RoomRole, RoomStatus, StaffRole, utcnow


@pytest.fixture
async def writer(db_url: str, engine: AsyncEngine) -> AsyncIterator[ChatWriter]:
    writer = await open_chat_writer(db_url, engine)
    yield writer
    await writer.aclose()


async def _room_with_host(sessions: async_sessionmaker[AsyncSession],
                          email: str = "guide@example.org") -> tuple[Room, Participant]:
    async with sessions() as s, s.begin():
        user = await staff.create_staff(s, email=email, display_name="Guide Park",
                                        role=StaffRole.COUNSELOR, password_hash="x")
        room = await lifecycle.create_room(s, title="Job counseling", starts_at=utcnow(),
                                           languages=["ko", "vi"], created_by=user.id)
        await lifecycle.transition(s, room, RoomStatus.OPEN)
        host = await participants.join_as_staff(s, room=room, staff=user, language="ko")
        return room, host


async def _waiting_worker(sessions: async_sessionmaker[AsyncSession], room: Room,
                          host: Participant) -> Participant:
    async with sessions() as s, s.begin():
        invite = await invites.create_invite(s, room=room, role=RoomRole.WORKER, label="",
                                             code_hash="h", expires_at=utcnow() + timedelta(1),
                                             created_by=host.staff_id or "")
        return await participants.join_with_invite(s, room=room, invite=invite,
                                                   display_name="Bold", language="mn")


def _post(room: Room, sender: Participant, client_id: str, text: str = "hello") -> Post:
    return Post(room_id=room.id, sender_id=sender.id, client_id=client_id, text=text)


async def test_messages_are_numbered_in_order_and_a_retry_is_not_stored_twice(
        writer: ChatWriter, sessions: async_sessionmaker[AsyncSession]) -> None:
    room, host = await _room_with_host(sessions)
    first = [await writer.post(_post(room, host, f"c{i}", f"m{i}")) for i in range(3)]
    assert [(m.seq, m.created, m.language, m.sender_role) for m in first] == [
        (1, True, "ko", "host"), (2, True, "ko", "host"), (3, True, "ko", "host")]
    again = await writer.post(_post(room, host, "c1", "m1 sent again"))
    assert (again.id, again.seq, again.text, again.created) == (first[1].id, 2, "m1", False)
    async with sessions() as s:
        assert [(m.seq, m.text) for m in await chat.history(s, room.id)] == [
            (1, "m0"), (2, "m1"), (3, "m2")]
        assert [m.text for m in await chat.history(s, room.id, after_seq=1)] == ["m1", "m2"]
        assert (await s.get(Room, room.id)).chat_seq == 3  # type: ignore[union-attr]


async def test_a_burst_shares_commits_and_every_room_stays_gapless(
        writer: ChatWriter, sessions: async_sessionmaker[AsyncSession]) -> None:
    rooms = [await _room_with_host(sessions, f"guide{k}@example.org") for k in range(2)]
    posts = [_post(room, host, f"b{i}", str(i)) for i in range(30) for room, host in rooms]
    stored = await asyncio.gather(*(writer.post(post) for post in posts))
    for room, _ in rooms:
        mine = [m for m in stored if m.room_id == room.id]
        assert [m.seq for m in mine] == list(range(1, 31))  # in the order posted
        assert [m.text for m in mine] == [str(i) for i in range(30)]
    assert writer.batches < len(posts)  # messages waiting together were committed together


async def test_a_full_batch_and_its_retries_are_stored_in_one_go(
        writer: ChatWriter, sessions: async_sessionmaker[AsyncSession]) -> None:
    room, host = await _room_with_host(sessions)
    count = MAX_BATCH + 20
    stored = await asyncio.gather(*(writer.post(_post(room, host, f"f{i}")) for i in range(count)))
    assert [m.seq for m in stored] == list(range(1, count + 1))
    again = await asyncio.gather(*(writer.post(_post(room, host, f"f{i}", "again"))
                                   for i in range(count)))  # every client id already used
    assert [(m.id, m.created) for m in again] == [(m.id, False) for m in stored]
    assert writer.batches <= 4


async def test_the_same_client_id_twice_in_one_batch_is_stored_once(
        writer: ChatWriter, sessions: async_sessionmaker[AsyncSession]) -> None:
    room, host = await _room_with_host(sessions)
    one, two = await asyncio.gather(writer.post(_post(room, host, "x")),
                                    writer.post(_post(room, host, "x")))
    assert (one.id, one.created, two.created) == (two.id, True, False)


async def test_two_nodes_on_one_database_number_a_room_without_gaps(
        db_url: str, writer: ChatWriter, sessions: async_sessionmaker[AsyncSession]) -> None:
    room, host = await _room_with_host(sessions)
    other_engine = make_engine(db_url)
    other = await open_chat_writer(db_url, other_engine)
    try:
        stored = await asyncio.gather(*(
            (writer if i % 2 else other).post(_post(room, host, f"n{i}")) for i in range(40)))
    finally:
        await other.aclose()
        await other_engine.dispose()
    assert sorted(m.seq for m in stored) == list(range(1, 41))


async def test_refused_messages_get_their_error_and_the_rest_of_the_batch_is_stored(
        writer: ChatWriter, sessions: async_sessionmaker[AsyncSession]) -> None:
    room, host = await _room_with_host(sessions)
    other_room, stranger = await _room_with_host(sessions, "other@example.org")
    waiting = await _waiting_worker(sessions, room, host)
    results = await asyncio.gather(
        writer.post(_post(room, waiting, "w1")),  # not admitted yet
        writer.post(_post(room, stranger, "s1")),  # a participant of another room
        writer.post(Post(room_id=room.id, sender_id="nobody", client_id="z", text="hi")),
        writer.post(_post(room, host, "h1")),
        return_exceptions=True)
    assert [type(r) for r in results] == [NotAdmitted, NotFound, NotFound, StoredMessage]
    assert isinstance(results[3], StoredMessage) and results[3].seq == 1
    async with sessions() as s, s.begin():
        ended = await s.get(Room, room.id)
        assert ended is not None
        await lifecycle.transition(s, ended, RoomStatus.ENDED)
    with pytest.raises(RoomEnded):
        await writer.post(_post(room, host, "h2"))
    assert (await writer.post(_post(other_room, stranger, "s2"))).seq == 1


async def test_a_removed_sender_is_refused(writer: ChatWriter,
                                           sessions: async_sessionmaker[AsyncSession]) -> None:
    room, host = await _room_with_host(sessions)
    worker = await _waiting_worker(sessions, room, host)
    async with sessions() as s, s.begin():
        await participants.admit(s, room, await s.merge(worker))
    assert (await writer.post(_post(room, worker, "before"))).created
    async with sessions() as s, s.begin():
        await participants.remove(s, room, await s.merge(worker))
    with pytest.raises(NotAdmitted):
        await writer.post(_post(room, worker, "after"))


async def test_a_caller_that_gives_up_does_not_lose_its_message(
        writer: ChatWriter, sessions: async_sessionmaker[AsyncSession]) -> None:
    room, host = await _room_with_host(sessions)
    task = asyncio.create_task(writer.post(_post(room, host, "gone")))
    await asyncio.sleep(0)  # queued
    task.cancel()
    await writer.post(_post(room, host, "after"))  # stored after the first: it was written
    async with sessions() as s:
        assert [m.client_id for m in await chat.history(s, room.id)] == ["gone", "after"]


async def test_close_stores_what_is_waiting(db_url: str, engine: AsyncEngine,
                                            sessions: async_sessionmaker[AsyncSession]) -> None:
    room, host = await _room_with_host(sessions)
    writer = await open_chat_writer(db_url, engine)
    posts = [asyncio.create_task(writer.post(_post(room, host, f"q{i}"))) for i in range(10)]
    await asyncio.sleep(0)
    await writer.aclose()
    assert sorted(m.seq for m in await asyncio.gather(*posts)) == list(range(1, 11))
    with pytest.raises(RuntimeError):
        await writer.post(_post(room, host, "late"))


async def test_chat_translations_are_kept_beside_the_message(
        writer: ChatWriter, sessions: async_sessionmaker[AsyncSession]) -> None:
    room, host = await _room_with_host(sessions)
    message = await writer.post(_post(room, host, "t1", "안녕하세요"))
    async with sessions() as s, s.begin():
        await chat.add_translations(s, message.id, {"vi": ("Xin chào", "direct"),
                                                    "en": ("Hello", "pivot")})
    async with sessions() as s, s.begin():
        # a second node's translation of a language already kept does not replace it
        await chat.add_translations(s, message.id, {"vi": ("Chào bạn", "multilingual"),
                                                    "ru": ("Привет", "direct")})
    async with sessions() as s:
        stored = (await chat.translations_of(s, [message.id]))[message.id]
        assert {k: (v.text, v.route) for k, v in stored.items()} == {
            "vi": ("Xin chào", "direct"), "en": ("Hello", "pivot"), "ru": ("Привет", "direct")}
        assert (await chat.history(s, room.id))[0].language == "ko"
        assert [m.id for m in await chat.latest(s, room.id, limit=5)] == [message.id]
