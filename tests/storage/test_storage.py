"""Repositories and migrations on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from rooms import form_models, invites, lifecycle, participants, staff
from rooms.errors import (
    Conflict,
    InvalidTransition,
    InviteClaimed,
    RoomEnded,
    RoomNotOpen,
)
from rooms.migrate import downgrade, upgrade
from rooms.models import Admission, Base, Room, RoomRole, RoomStatus, StaffRole, StaffUser, utcnow


async def _counselor(sessions: async_sessionmaker[AsyncSession]) -> StaffUser:
    async with sessions() as s, s.begin():
        return await staff.create_staff(s, email="Guide@Example.org", display_name="Guide Park",
                                        role=StaffRole.COUNSELOR, password_hash="x")


async def _room(sessions: async_sessionmaker[AsyncSession], user: StaffUser,
                status: RoomStatus = RoomStatus.OPEN, auto_admit: bool = False) -> Room:
    async with sessions() as s, s.begin():
        room = await lifecycle.create_room(s, title="Job counseling", starts_at=utcnow(),
                                           languages=["ko", "vi", "ko"], created_by=user.id,
                                           auto_admit=auto_admit)
        if status is not RoomStatus.SCHEDULED:
            await lifecycle.transition(s, room, RoomStatus.OPEN)
        return room


async def test_schema_matches_models_after_migrations(engine: AsyncEngine) -> None:
    def diff(connection: object) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})  # type: ignore[arg-type]
        assert form_models.Base is Base  # the forms' tables are in the metadata compared
        return list(compare_metadata(context, Base.metadata))

    async with engine.connect() as connection:
        assert await connection.run_sync(diff) == []


async def test_migrations_go_down_and_up_again(db_url: str) -> None:
    await asyncio.to_thread(downgrade, db_url, "base")
    await asyncio.to_thread(upgrade, db_url)


async def test_staff_emails_are_unique_case_insensitively(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    user = await _counselor(sessions)
    assert user.email == "guide@example.org"
    async with sessions() as s, s.begin():
        with pytest.raises(Conflict):
            await staff.create_staff(s, email="GUIDE@example.org ", display_name="Other",
                                     role=StaffRole.ADMIN, password_hash="y")
        assert await staff.count_staff(s) == 1
        assert (await staff.find_staff_by_email(s, " guide@EXAMPLE.org")) is not None


async def test_room_lifecycle(sessions: async_sessionmaker[AsyncSession]) -> None:
    user = await _counselor(sessions)
    room = await _room(sessions, user, RoomStatus.SCHEDULED)
    assert room.languages == ["ko", "vi"]
    async with sessions() as s, s.begin():
        room = await lifecycle.get_room(s, room.id)
        assert room.starts_at.tzinfo is not None
        await lifecycle.transition(s, room, RoomStatus.OPEN)
        with pytest.raises(InvalidTransition):
            await lifecycle.transition(s, room, RoomStatus.OPEN)
        await lifecycle.transition(s, room, RoomStatus.ENDED)
        assert room.opened_at and room.ended_at
        with pytest.raises(RoomEnded):
            await lifecycle.transition(s, room, RoomStatus.OPEN)
        with pytest.raises(RoomEnded):
            await lifecycle.set_auto_admit(s, room, True)


async def test_invites_expire_and_lock_after_failed_codes(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    user = await _counselor(sessions)
    room = await _room(sessions, user)
    async with sessions() as s, s.begin():
        invite = await invites.create_invite(s, room=room, role=RoomRole.WORKER, label="",
                                             code_hash="h", expires_at=utcnow() + timedelta(1),
                                             created_by=user.id)
        expired = await invites.create_invite(s, room=room, role=RoomRole.OBSERVER, label="",
                                              code_hash="h", created_by=user.id,
                                              expires_at=utcnow() - timedelta(seconds=1))
        with pytest.raises(Conflict):
            await invites.create_invite(s, room=room, role=RoomRole.HOST, label="", code_hash="h",
                                        expires_at=utcnow() + timedelta(1), created_by=user.id)
        assert invites.invite_usable(invite) and not invites.invite_usable(expired)
        left = [await invites.reserve_attempt(s, invite.id) for _ in range(6)]
        await s.refresh(invite)
        assert left == [4, 3, 2, 1, 0, None] and not invites.invite_usable(invite)


async def test_parallel_code_attempts_stop_at_the_lock(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    """40 attempts reserved at once, each in its own transaction: exactly five get one."""
    user = await _counselor(sessions)
    room = await _room(sessions, user)
    async with sessions() as s, s.begin():
        invite = await invites.create_invite(s, room=room, role=RoomRole.WORKER, label="",
                                             code_hash="h", expires_at=utcnow() + timedelta(1),
                                             created_by=user.id)

    async def attempt() -> int | None:
        async with sessions() as s, s.begin():
            return await invites.reserve_attempt(s, invite.id)

    left = await asyncio.gather(*(attempt() for _ in range(40)))
    assert sorted(x for x in left if x is not None) == [0, 1, 2, 3, 4]


async def test_lobby_admission(sessions: async_sessionmaker[AsyncSession]) -> None:
    user = await _counselor(sessions)
    scheduled = await _room(sessions, user, RoomStatus.SCHEDULED)
    async with sessions() as s, s.begin():
        invite = await invites.create_invite(s, room=scheduled, role=RoomRole.WORKER, label="",
                                             code_hash="h", expires_at=utcnow() + timedelta(1),
                                             created_by=user.id)
        worker = await participants.join_with_invite(s, room=scheduled, invite=invite,
                                                     display_name=" Mai ", language="vi")
        assert (worker.admission, worker.display_name) == (Admission.WAITING, "Mai")
        with pytest.raises(RoomNotOpen):
            await participants.admit(s, scheduled, worker)
        with pytest.raises(InviteClaimed):  # one invite, one participant
            await participants.join_with_invite(s, room=scheduled, invite=invite,
                                                display_name="Mai T.", language="vi")
        await lifecycle.transition(s, scheduled, RoomStatus.OPEN)
        await participants.admit(s, scheduled, worker)
        with pytest.raises(Conflict):
            await participants.deny(s, scheduled, worker)
        host = await participants.join_as_staff(s, room=scheduled, staff=user)
        assert host.role is RoomRole.HOST and host.admission is Admission.ADMITTED
        assert (await participants.join_as_staff(s, room=scheduled, staff=user)).id == host.id
        await participants.count_connection(s, worker.id, +1)
        everyone = await participants.list_participants(s, scheduled.id, Admission.ADMITTED)
        assert {p.id for p in everyone} == {worker.id, host.id}


async def test_auto_admit_and_admit_all(sessions: async_sessionmaker[AsyncSession]) -> None:
    user = await _counselor(sessions)
    room = await _room(sessions, user)
    async with sessions() as s, s.begin():
        waiting = []
        for i in range(3):
            invite = await invites.create_invite(s, room=room, role=RoomRole.WORKER, label="",
                                                 code_hash="h", created_by=user.id,
                                                 expires_at=utcnow() + timedelta(1))
            waiting.append(await participants.join_with_invite(
                s, room=room, invite=invite, display_name=f"W{i}", language="ne"))
        lobby = await participants.waiting_by_room(s, [room.id])
        assert [p.display_name for p in lobby[room.id]] == ["W0", "W1", "W2"]
        await lifecycle.set_auto_admit(s, room, True)
        admitted = await participants.admit_all_waiting(s, room)
        assert len(admitted) == 3
        assert all(p.admission is Admission.ADMITTED for p in waiting)


async def test_reading_languages_of_the_admitted(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    user = await _counselor(sessions)
    room = await _room(sessions, user)
    async with sessions() as s, s.begin():
        host = await participants.join_as_staff(s, room=room, staff=user, language="ko")
        invite = await invites.create_invite(s, room=room, role=RoomRole.WORKER, label="",
                                             code_hash="h", expires_at=utcnow() + timedelta(1),
                                             created_by=user.id)
        worker = await participants.join_with_invite(s, room=room, invite=invite,
                                                     display_name="Mai", language="vi")
        assert worker.reading_language == "vi"
        assert await participants.reading_languages(s, room.id) == {"ko"}  # Mai is waiting
        await participants.admit(s, room, worker)
        assert await participants.reading_languages(s, room.id) == {"ko", "vi"}
        await participants.set_reading_language(s, host, "en")
        assert participants.reading_language(host) == "en"
        assert await participants.reading_languages(s, room.id) == {"en", "vi"}
        assert await participants.reading_languages(s, room.id, online_only=True) == set()
        await participants.count_connection(s, worker.id, +1)
        assert await participants.reading_languages(s, room.id, online_only=True) == {"vi"}
