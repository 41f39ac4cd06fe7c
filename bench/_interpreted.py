"""Rooms with an interpreter for the benchmarks, straight in the database through the project's
own functions (like bench/_seed.py, whose counselor hosts them and must exist already): open
auto-admit rooms, each with the counselor as host, invited workers who did not consent to
transcription (no speech recognition runs), and the bench interpreter account assigned to the
room into `languages` and entered as a participant; room tokens minted by `TokenService`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from _seed import STAFF_EMAIL, Member
from sqlalchemy.ext.asyncio import AsyncSession

from rooms import interpreters, lifecycle
from rooms import invites as invites_repo
from rooms import participants as participants_repo
from rooms import staff as staff_repo
from rooms.db import make_engine, make_sessionmaker
from rooms.models import Participant, Room, RoomRole, RoomStatus, StaffRole, StaffUser, utcnow
from server.auth.passwords import hash_secret
from server.auth.tokens import RoomClaims, TokenService
from server.settings import Settings

INTERPRETER_EMAIL = "bench-interpreter@example.org"
INTERPRETER_NAME = "Bench Interpreter"
OTHER = "es"


@dataclass(frozen=True, slots=True)
class InterpretedRoom:
    room_id: str
    host: Member
    interpreter: Member
    workers: tuple[Member, ...]
    others: tuple[Member, ...] = ()
    """Workers who speak and read `OTHER`."""


async def interpreted_rooms(settings: Settings, *, rooms: int, workers: int, title: str,
                            languages: list[str], others: int = 0) -> list[InterpretedRoom]:
    """`rooms` rooms, each with the counselor, the interpreter (into `languages`), `workers`
    workers named "Listener {room}.{n}", who speak and read English, and `others` named
    "Other {room}.{n}", who speak and read `OTHER`."""
    tokens = TokenService(settings.secret_key.get_secret_value())
    ttl = timedelta(minutes=settings.room_token_ttl_minutes)
    code_hash = hash_secret("123456")

    def member(person: Participant, room_id: str) -> Member:
        token = tokens.room_token(RoomClaims(person.id, room_id, person.role.value), ttl)
        return Member(person.id, person.role.value, token)

    seeded = []
    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            host = await staff_repo.find_staff_by_email(session, STAFF_EMAIL)
            assert host is not None, "seed the counselor first (bench/_seed.py)"
            interpreter = await _interpreter(session)
            for r in range(rooms):
                room = await lifecycle.create_room(
                    session, title=f"{title} {r}", starts_at=utcnow(), languages=["en"],
                    created_by=host.id, auto_admit=True)
                await lifecycle.transition(session, room, RoomStatus.OPEN)
                await interpreters.assign(session, room_id=room.id, interpreter=interpreter,
                                          languages=languages, assigned_by=host)
                people = [await participants_repo.join_as_staff(session, room=room, staff=staff,
                                                                language="en")
                          for staff in (host, interpreter)]
                people += [await _worker(session, room, host, f"Listener {r}.{w}", code_hash)
                           for w in range(workers)]
                people += [await _worker(session, room, host, f"Other {r}.{w}", code_hash,
                                         OTHER) for w in range(others)]
                members = [member(p, room.id) for p in people]
                seeded.append(InterpretedRoom(room.id, members[0], members[1],
                                              tuple(members[2:2 + workers]),
                                              tuple(members[2 + workers:])))
    finally:
        await engine.dispose()
    return seeded


async def _interpreter(session: AsyncSession) -> StaffUser:
    existing = await staff_repo.find_staff_by_email(session, INTERPRETER_EMAIL)
    if existing is not None:
        return existing
    return await staff_repo.create_staff(
        session, email=INTERPRETER_EMAIL, display_name=INTERPRETER_NAME,
        role=StaffRole.INTERPRETER, password_hash=hash_secret("bench-interpreter-password"))


async def _worker(session: AsyncSession, room: Room, host: StaffUser, name: str,
                  code_hash: str, language: str = "en") -> Participant:
    invite = await invites_repo.create_invite(
        session, room=room, role=RoomRole.WORKER, label=name, code_hash=code_hash,
        expires_at=utcnow() + timedelta(days=1), created_by=host.id)
    return await participants_repo.join_with_invite(
        session, room=room, invite=invite, display_name=name, language=language,
        transcription_consent=False)
