"""Deliver a session's signals in order, without holding the session's negotiation lock."""

from __future__ import annotations

import asyncio
import logging

from media.rtc.signals import Signal, SignalSink

logger = logging.getLogger(__name__)


class SignalOutbox:
    def __init__(self, sink: SignalSink, name: str) -> None:
        self._sink = sink
        self._queue: asyncio.Queue[Signal] = asyncio.Queue()
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"signals:{name}")

    @property
    def running(self) -> bool:
        return not self._task.done()

    def send(self, signal: Signal) -> None:
        self._queue.put_nowait(signal)

    async def drain(self) -> None:
        """Wait until every signal queued so far was handed to the sink."""
        await self._queue.join()

    async def _run(self) -> None:
        while True:
            signal = await self._queue.get()
            try:
                await self._sink(signal)
            except Exception:  # the sink is the server's socket: log, keep the order of the rest
                logger.exception("sending %s failed", type(signal).__name__)
            finally:
                self._queue.task_done()

    async def close(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
