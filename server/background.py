"""Work a request starts and does not wait for (a corrected caption's re-translation): each
task is kept until it ends, its failure logged, and the unfinished ones cancelled when the
server stops."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger(__name__)


class Background:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()
        self._keyed: dict[str, asyncio.Task[None]] = {}

    def start(self, work: Coroutine[Any, Any, None], *, name: str,
              key: str | None = None) -> asyncio.Task[None] | None:
        """Run ``work``; with a ``key``, only when no task of that key is running (then
        ``work`` is closed unstarted and None returned)."""
        if key is not None and key in self._keyed:
            work.close()
            return None
        task = asyncio.get_running_loop().create_task(work, name=name)
        self._tasks.add(task)
        if key is not None:
            self._keyed[key] = task
            task.add_done_callback(lambda _: self._keyed.pop(key, None))
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            log.error("background task %s failed", task.get_name(), exc_info=error)

    async def idle(self) -> None:
        """Wait until every task started so far has ended (tests, shutdown of a drained node)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)
