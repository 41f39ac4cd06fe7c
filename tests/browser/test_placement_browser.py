"""Room placement in a real Chromium: the page follows its room to the node that serves it.

Two nodes share a database and a Redis behind one origin (`PathProxy`: `/nodes/a/...` and
`/nodes/b/...` reach the nodes, everything else node B, as docs/architecture.md describes). The
room belongs to node A; the counselor's page, served by B, is sent to A by a `redirect` and
connects there within the page's CSP. When A drains, the page is sent on to B.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from rooms.migrate import upgrade
from server.services import Services
from server.ws.redirect import drain
from tests.browser.test_room_flow import (  # noqa: F401 - fixtures
    Person,
    chromium,
    enter_room,
    open_person,
    people,
    playwright,
    schedule_and_open,
    sign_in,
)
from tests.conftest import app_settings, seed_staff
from tests.live import LiveServer
from tests.path_proxy import PathProxy
from tests.services import RedisServer

pytestmark = [pytest.mark.browser, pytest.mark.redis]


@dataclass
class Cluster:
    a: LiveServer
    b: LiveServer
    proxy: PathProxy

    @property
    def url(self) -> str:  # what the browsers open: the one public origin
        return self.proxy.url

    def on(self, node: LiveServer, work: Callable[[Services], Coroutine[Any, Any, Any]]) -> Any:
        """Run `work` on the node's own event loop (its services live there)."""
        assert node.loop is not None
        services: Services = node.server.config.app.state.services
        return asyncio.run_coroutine_threadsafe(work(services), node.loop).result(15)

    def sockets(self, node: LiveServer) -> int:
        services: Services = node.server.config.app.state.services
        return services.hub.connection_count()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    root: Path = tmp_path_factory.mktemp("placement")
    url = f"sqlite+aiosqlite:///{root / 'counsel.db'}"
    upgrade(url)
    seed_staff(url)
    redis = RedisServer()
    redis.start()
    proxy = PathProxy()
    a = LiveServer(app_settings(url, redis_url=redis.url, node_url=f"{proxy.url}/nodes/a",
                                captions_enabled=False)).start()
    b = LiveServer(app_settings(url, redis_url=redis.url, node_url=f"{proxy.url}/nodes/b",
                                captions_enabled=False)).start()
    proxy.routes = {"/nodes/a": a.port, "/nodes/b": b.port}
    proxy.entry_port = b.port
    yield Cluster(a, b, proxy)
    proxy.stop()
    a.stop()
    b.stop()
    redis.stop()


def _until(page: Page, check: Callable[[], bool], within: float = 15.0) -> None:
    """Wait, letting Playwright deliver the page's events meanwhile."""
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "not in time"
        page.wait_for_timeout(50)


def test_the_page_follows_its_room_to_the_owner_and_on_when_the_owner_drains(
        chromium: Browser, live: Cluster, people: list[Person]) -> None:  # noqa: F811
    staff = open_person(chromium, live, people)  # type: ignore[arg-type]
    page = staff.page
    sockets: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    sign_in(page)
    room_id = schedule_and_open(page, "Placement").rsplit("/", 1)[1]
    assert live.on(live.a, lambda s: s.placement.owner(room_id)) is None  # A owns the room

    enter_room(page)  # served by B, "Connected" on A
    _until(page, lambda: live.sockets(live.a) == 1 and len(sockets) == 2)
    assert live.sockets(live.b) == 0
    assert f"/ws/rooms/{room_id}?" in sockets[0] and "/nodes/" not in sockets[0]
    assert f"/nodes/a/ws/rooms/{room_id}?" in sockets[1]

    live.on(live.a, drain)  # A stops: the room goes to B, and the page with it
    _until(page, lambda: live.sockets(live.b) == 1 and len(sockets) == 3)
    assert live.sockets(live.a) == 0
    assert f"/nodes/b/ws/rooms/{room_id}?" in sockets[-1], [s.split("?")[0] for s in sockets]
    expect(page.get_by_role("status").filter(has_text="Connected")).to_be_visible()
    assert staff.problems == []  # no CSP violation, no error
