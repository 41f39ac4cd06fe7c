"""Fixtures: real PostgreSQL and Redis servers, migrated databases, live app servers."""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from rooms.migrate import upgrade
from rooms.models import StaffRole
from server.settings import Settings
from server.setup import create_staff_account
from tests.live import Browser, LiveServer, Socket, close_all
from tests.services import RedisServer, private_postgres

ADMIN = ("admin@example.org", "admin-password-1", StaffRole.ADMIN)
COUNSELOR = ("counselor@example.org", "counselor-pass-1", StaffRole.COUNSELOR)
INTERPRETER = ("interpreter@example.org", "interpreter-pass-1", StaffRole.INTERPRETER)
STAFF = {"admin": ADMIN, "counselor": COUNSELOR, "interpreter": INTERPRETER}


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    given = os.environ.get("COUNSEL_TEST_POSTGRES_URL")
    if given:
        yield given
        return
    with private_postgres() as url:
        yield url


async def _admin(url: str, sql: str) -> None:
    plain = url.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(plain)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, migrated database on the real PostgreSQL server for each test."""
    name = f"counsel_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(postgres_server, f'CREATE DATABASE "{name}"'))
    url = postgres_server.rsplit("/", 1)[0] + f"/{name}"
    upgrade(url)
    yield url
    asyncio.run(_admin(postgres_server, f'DROP DATABASE "{name}" WITH (FORCE)'))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'counsel.db'}"
    upgrade(url)
    return url


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest) -> str:
    """Storage tests run on both databases."""
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(fixture))


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_url(redis_server: RedisServer) -> str:
    return os.environ.get("COUNSEL_TEST_REDIS_URL") or redis_server.url


def seed_staff(database_url: str) -> None:
    settings = Settings(database_url=database_url)
    for email, password, role in STAFF.values():
        name = f"{role.value.title()} Kim"
        asyncio.run(create_staff_account(settings, email, name, role, password))


NO_MODELS = Path(tempfile.gettempdir()) / "counsel-room-tests-no-models"


def app_settings(database_url: str, **overrides: object) -> Settings:
    """Test settings; no models unless a test names a models or translation directory (never
    the developer's own `var/models`, which `make run` fills)."""
    overrides.setdefault("models_dir", NO_MODELS)
    return Settings(database_url=database_url, secret_key="test-secret-" + "x" * 32,
                    **overrides)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One real server (uvicorn, SQLite) per test module, with seeded staff accounts."""
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('live') / 'counsel.db'}"
    upgrade(url)
    seed_staff(url)
    server = LiveServer(app_settings(url)).start()
    yield server
    server.stop()


def staff_browser(live: LiveServer, who: str = "counselor") -> Browser:
    email, password, _ = STAFF[who]
    browser = Browser(live.url)
    response = browser.login(email, password)
    assert response.status_code == 200, response.text
    return browser


def hosted_room(live: LiveServer) -> tuple[Browser, str, Socket]:
    """A new room with its counselor signed in and their room socket open (welcomed)."""
    counselor = staff_browser(live)
    room_id = counselor.create_room()
    socket = Socket(live.url, room_id, counselor.enter(room_id).token)
    socket.expect("welcome")
    return counselor, room_id, socket


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    close_all()
