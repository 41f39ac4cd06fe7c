"""`server.periodic.Periodic`: sweeps that stop without cutting a step short."""

from __future__ import annotations

import asyncio
import logging

import pytest

from server.periodic import Periodic


async def test_a_step_under_way_when_it_stops_is_let_finish() -> None:
    began, finished = asyncio.Event(), asyncio.Event()

    async def step() -> None:
        began.set()
        await asyncio.sleep(0.2)  # a database call in a driver's thread, say
        finished.set()

    periodic = Periodic(step, 60, name="test-sweep", wait_first=False)
    periodic.start()
    await began.wait()
    await periodic.aclose()
    assert finished.is_set()


async def test_a_failing_step_is_logged_and_the_next_one_runs(
        caplog: pytest.LogCaptureFixture) -> None:
    calls: list[int] = []

    async def step() -> None:
        calls.append(len(calls))
        if len(calls) == 1:
            raise OSError("the database is away")

    periodic = Periodic(step, 0.01, name="test-sweep")
    with caplog.at_level(logging.ERROR, logger="server.periodic"):
        periodic.start()
        async with asyncio.timeout(5):
            while len(calls) < 3:  # noqa: ASYNC110 - the sweep's own loop
                await asyncio.sleep(0.01)
        await periodic.aclose()
    assert "test-sweep failed" in caplog.text and "the database is away" in caplog.text


async def test_a_step_that_does_not_finish_is_cancelled_after_the_wait() -> None:
    cancelled = asyncio.Event()

    async def step() -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    periodic = Periodic(step, 60, name="test-sweep", wait_first=False)
    periodic.start()
    await asyncio.sleep(0.05)
    await periodic.aclose(finish_s=0.1)
    assert cancelled.is_set()


async def test_stopping_before_the_first_step_runs_none() -> None:
    calls: list[int] = []

    async def step() -> None:
        calls.append(1)

    periodic = Periodic(step, 60, name="test-sweep")
    periodic.start()
    await asyncio.sleep(0.05)
    await periodic.aclose()
    assert calls == []
