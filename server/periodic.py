"""A step run every few seconds in a task of its own (sweeps), stopped without cutting a step
short: a database call cancelled half-way leaves its driver's thread (aiosqlite) running, and
that thread fails against the event loop once the server has closed it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

FINISH_S = 5.0
"""How long `aclose` lets a step under way finish before it is cancelled."""


class Periodic:
    def __init__(self, step: Callable[[], Awaitable[object]], interval: float, *, name: str,
                 wait_first: bool = True) -> None:
        """``step`` every ``interval`` seconds (the first after ``interval`` too, unless not
        ``wait_first``); a step that fails is logged, and the next runs as usual."""
        self._step = step
        self._interval = interval
        self._name = name
        self._wait_first = wait_first
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name=self._name)

    async def _run(self) -> None:
        if self._wait_first:
            await self._pause()
        while not self._stopping.is_set():
            try:
                await self._step()
            except Exception:
                log.exception("%s failed; trying again in %.1f s", self._name, self._interval)
            await self._pause()

    async def _pause(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), self._interval)

    async def aclose(self, finish_s: float = FINISH_S) -> None:
        """No more steps; the one under way may finish (``finish_s`` at most)."""
        self._stopping.set()
        if self._task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._task), finish_s)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
