"""Whether this node should be sent new sessions: what `GET /readyz` answers.

Ready when the database answers and its schema is at the migrations' head, the speech model is
loaded (when captions are on: a model that is missing or fails to load switches captions off,
which leaves the node ready), the translation models have loaded and the node is not draining.
Liveness (`/healthz`) asks none of this: a node waiting for its database is alive.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from rooms.migrate import alembic_config
from server.services import Services

OK = "ok"
DATABASE_TIMEOUT_S = 5.0


@dataclass(frozen=True, slots=True)
class Report:
    checks: dict[str, str]
    """Each check's state: "ok", or what is missing."""

    @property
    def failed(self) -> list[str]:
        return [name for name, state in self.checks.items() if state != OK]

    @property
    def ready(self) -> bool:
        return not self.failed


@dataclass
class Readiness:
    services: Services
    _migrated: bool = field(default=False, init=False)
    """Once the schema was at the head it stays there (migrations run before a deploy)."""

    async def report(self) -> Report:
        database, migrations = await self._database()
        return Report({
            "database": database,
            "migrations": migrations,
            "captions": self._captions(),
            "translation": OK if self.services.translations.warmed else "loading models",
            "draining": "draining" if self.services.draining else OK,
        })

    async def _database(self) -> tuple[str, str]:
        try:
            async with asyncio.timeout(DATABASE_TIMEOUT_S):
                async with self.services.engine.connect() as connection:
                    if self._migrated:
                        await connection.exec_driver_sql("SELECT 1")
                    else:
                        current = await connection.run_sync(_current_heads)
                        heads = await asyncio.to_thread(_script_heads)
                        self._migrated = current == heads
                        if not self._migrated:
                            return OK, (f"not migrated: at {_names(current)}, head "
                                        f"{_names(heads)} (run: counsel-room db upgrade)")
        except Exception as error:  # any failure to answer means: not ready
            return f"unavailable: {type(error).__name__}", "unknown"
        return OK, OK

    def _captions(self) -> str:
        captions = self.services.captions
        return "loading the speech model" if captions.state == "starting" else OK


def _current_heads(connection: Connection) -> set[str]:
    return set(MigrationContext.configure(connection).get_current_heads())


def _script_heads() -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


def _names(revisions: set[str]) -> str:
    return ", ".join(sorted(revisions)) or "nothing"
