"""Rooms for the benchmarks, straight in the database through the project's own functions: one
staff counselor, and open auto-admit rooms each with the counselor as host and invited workers,
with room tokens minted by `TokenService` (the benchmarks measure rooms, not sign-in)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from rooms import invites as invites_repo
from rooms import lifecycle
from rooms import participants as participants_repo
from rooms import staff as staff_repo
from rooms.db import make_engine, make_sessionmaker
from rooms.models import Participant, RoomRole, RoomStatus, StaffRole, utcnow
from server.auth.passwords import hash_secret
from server.auth.tokens import RoomClaims, TokenService
from server.settings import Settings
from server.setup import create_staff_account

STAFF_EMAIL = "bench-counselor@example.org"
STAFF_PASSWORD = "bench-counselor-password"


@dataclass(frozen=True, slots=True)
class Member:
    participant_id: str
    role: str
    token: str


@dataclass(frozen=True, slots=True)
class SeededRoom:
    room_id: str
    host: Member
    workers: tuple[Member, ...]


async def seed_rooms(settings: Settings, *, rooms: int, workers: int, title: str,
                     worker_name: str = "Worker", consent: bool | None = None,
                     ) -> list[SeededRoom]:
    """`rooms` rooms, each with the counselor and `workers` workers named "{worker_name}
    {room}.{n}", who consented to transcription as `consent` says."""
    await create_staff_account(settings, STAFF_EMAIL, "Bench Counselor", StaffRole.COUNSELOR,
                               STAFF_PASSWORD)
    tokens = TokenService(settings.secret_key.get_secret_value())
    ttl = timedelta(minutes=settings.room_token_ttl_minutes)
    code_hash = hash_secret("123456")

    def member(person: Participant, room_id: str) -> Member:
        token = tokens.room_token(RoomClaims(person.id, room_id, person.role.value), ttl)
        return Member(person.id, person.role.value, token)

    seeded: list[SeededRoom] = []
    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            staff = await staff_repo.find_staff_by_email(session, STAFF_EMAIL)
            assert staff is not None
            for r in range(rooms):
                room = await lifecycle.create_room(
                    session, title=f"{title} {r}", starts_at=utcnow(), languages=["en"],
                    created_by=staff.id, auto_admit=True)
                await lifecycle.transition(session, room, RoomStatus.OPEN)
                host = await participants_repo.join_as_staff(session, room=room, staff=staff,
                                                             language="en")
                people = []
                for w in range(workers):
                    name = f"{worker_name} {r}.{w}"
                    invite = await invites_repo.create_invite(
                        session, room=room, role=RoomRole.WORKER, label=name,
                        code_hash=code_hash, expires_at=utcnow() + timedelta(days=1),
                        created_by=staff.id)
                    people.append(await participants_repo.join_with_invite(
                        session, room=room, invite=invite, display_name=name, language="en",
                        transcription_consent=consent))
                seeded.append(SeededRoom(room.id, member(host, room.id),
                                         tuple(member(p, room.id) for p in people)))
    finally:
        await engine.dispose()
    return seeded
