"""Fixtures of the integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.services import RedisServer


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    """A Redis of this test's own: its keys live and lapse in it alone, and the test may stop,
    freeze and restart it."""
    server = RedisServer()
    server.start()
    yield server
    server.stop()
