"""Account and demo-content setup used by the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from rooms import invites as invites_repo
from rooms import lifecycle
from rooms import staff as staff_repo
from rooms.db import make_engine, make_sessionmaker, one_transaction
from rooms.models import Room, RoomRole, RoomStatus, StaffRole, StaffUser, utcnow
from server.auth.passwords import hash_secret, new_verification_code, password_problem
from server.auth.tokens import InviteClaims, TokenService
from server.settings import Settings

DEMO_EMAIL = "counselor@example.org"
DEMO_PASSWORD = "demo-counselor-pass"
DEMO_ROOM = "Return-to-work plan — first meeting"


@dataclass(frozen=True)
class DemoInfo:
    email: str
    password: str
    room_title: str
    invite_link: str
    code: str
    short_link: str


async def create_staff_account(settings: Settings, email: str, name: str, role: StaffRole,
                               password: str) -> None:
    problem = password_problem(password)
    if problem:
        raise ValueError(problem)
    async with one_transaction(settings.database_url) as session:
        await staff_repo.create_staff(session, email=email, display_name=name, role=role,
                                      password_hash=hash_secret(password))


async def create_demo(settings: Settings, base_url: str, valid_for: timedelta) -> DemoInfo:
    if settings.mode != "development":
        raise ValueError("demo content is for development mode only")
    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            user = await _demo_counselor(session)
            room = await _demo_room(session, user)
            code = new_verification_code()
            invite = await invites_repo.create_invite(
                session, room=room, role=RoomRole.WORKER, label="", code_hash=hash_secret(code),
                expires_at=utcnow() + valid_for, created_by=user.id)
    finally:
        await engine.dispose()
    tokens = TokenService(settings.secret_key.get_secret_value())
    token = tokens.invite_token(InviteClaims(invite.id, room.id, invite.role.value),
                                invite.expires_at)
    base = base_url.rstrip("/")
    return DemoInfo(DEMO_EMAIL, DEMO_PASSWORD, room.title, f"{base}/join/{token}", code,
                    f"{base}/j/{invite.short_code}")


async def _demo_counselor(session: AsyncSession) -> StaffUser:
    user = await staff_repo.find_staff_by_email(session, DEMO_EMAIL)
    if user is not None:
        return user
    return await staff_repo.create_staff(
        session, email=DEMO_EMAIL, display_name="Demo Counselor", role=StaffRole.COUNSELOR,
        password_hash=hash_secret(DEMO_PASSWORD))


async def _demo_room(session: AsyncSession, user: StaffUser) -> Room:
    for room in await lifecycle.list_rooms(session, include_ended=False):
        if room.title == DEMO_ROOM:
            return room
    room = await lifecycle.create_room(session, title=DEMO_ROOM, starts_at=utcnow(),
                                       languages=["ko", "en", "vi"], created_by=user.id)
    return await lifecycle.transition(session, room, RoomStatus.OPEN)
