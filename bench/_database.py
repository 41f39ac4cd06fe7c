"""The database a benchmark's server runs on: a fresh SQLite file, or a fresh database on the
PostgreSQL server of ``postgres_url`` (dropped afterwards)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path


@contextlib.asynccontextmanager
async def database(postgres_url: str | None, workdir: Path) -> AsyncIterator[str]:
    if not postgres_url:
        yield f"sqlite+aiosqlite:///{workdir / 'counsel.db'}"
        return
    import asyncpg

    name = f"counsel_bench_{os.urandom(6).hex()}"
    admin = await asyncpg.connect(postgres_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield postgres_url.rsplit("/", 1)[0] + f"/{name}"
        finally:
            await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await admin.close()
