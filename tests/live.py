"""A real uvicorn server in a background thread, and HTTP/WebSocket clients that use it."""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from websockets.sync.client import ClientConnection, connect

from server.app import create_app
from server.http_guard import guarded_http
from server.settings import Settings


class LiveServer:
    def __init__(self, settings: Settings, log_level: str = "warning") -> None:
        config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=0,
                                http=guarded_http(settings.http_head_timeout_s),
                                ws="websockets-sansio", log_level=log_level, lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.port = 0
        self.loop: asyncio.AbstractEventLoop | None = None

    def _run(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self.loop = asyncio.get_running_loop()
        await self.server.serve()

    def start(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the server did not start")
            time.sleep(0.02)
        self.port = self.server.servers[0].sockets[0].getsockname()[1]
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(15)


OPEN: list[Browser | Socket] = []


def close_all() -> None:
    """Close every client a test opened (an autouse fixture calls this)."""
    while OPEN:
        OPEN.pop().close()


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
TOKEN = re.compile(r'data-token="([^"]+)"')
PARTICIPANT = re.compile(r'data-participant-id="([^"]+)"')
LINK = re.compile(r'id="invite-link" readonly value="([^"]+)"')
CODE = re.compile(r'id="invite-code" class="code">(\d+)<')


@dataclass
class RoomAccess:
    room_id: str
    participant_id: str
    token: str


@dataclass
class Browser:
    """A cookie-keeping HTTP client that fills in forms like a person would."""

    base: str
    http: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=self.base, follow_redirects=True, timeout=20)
        OPEN.append(self)

    def close(self) -> None:
        self.http.close()

    def csrf(self, path: str) -> str:
        page = self.http.get(path)
        match = CSRF.search(page.text)
        assert match, f"no form on {path}: {page.status_code}"
        return match.group(1)

    def post_form(self, path: str, data: dict[str, Any], form_page: str | None = None
                  ) -> httpx.Response:
        token = self.csrf(form_page or path)
        return self.http.post(path, data={"csrf_token": token, **data})

    def login(self, email: str, password: str) -> httpx.Response:
        return self.post_form("/staff/login", {"email": email, "password": password})

    def create_room(self, title: str = "Return-to-work plan", languages: tuple[str, ...] = (
            "ko", "vi"), auto_admit: bool = False, open_it: bool = True) -> str:
        data: dict[str, Any] = {"title": title, "starts_at": "2026-11-23T10:00",
                                "languages": list(languages)}
        if auto_admit:
            data["auto_admit"] = "true"
        response = self.post_form("/staff/rooms", data, form_page="/staff/rooms/new")
        assert response.status_code == 200, response.text
        room_id = str(response.url).rstrip("/").split("/")[-1]
        if open_it:
            self.post_form(f"/staff/rooms/{room_id}/open", {}, f"/staff/rooms/{room_id}")
        return room_id

    def invite(self, room_id: str, role: str = "worker", label: str = "") -> tuple[str, str]:
        page = self.post_form(f"/staff/rooms/{room_id}/invites", {"role": role, "label": label},
                              f"/staff/rooms/{room_id}")
        link, code = LINK.search(page.text), CODE.search(page.text)
        assert link and code, page.text
        return link.group(1), code.group(1)

    def join(self, link: str, code: str, name: str = "Nguyen Van An",
             language: str = "vi", transcription: str = "yes") -> httpx.Response:
        path = link.split("127.0.0.1", 1)[1].split("/", 1)[1]
        page = self.post_form("/" + path, {"name": name, "code": code, "language": language,
                                           "transcription": transcription})
        if page.url.path.endswith("/check"):  # the device check page: skipped, on to the lobby
            return self.http.get(page.url.path.removesuffix("/check"))
        return page

    def enter(self, room_id: str) -> RoomAccess:
        page = self.post_form(f"/staff/rooms/{room_id}/enter", {}, f"/staff/rooms/{room_id}")
        return access_from(page, room_id)

    def room(self, room_id: str) -> RoomAccess:
        return access_from(self.http.get(f"/rooms/{room_id}"), room_id)


def access_from(page: httpx.Response, room_id: str) -> RoomAccess:
    token, participant = TOKEN.search(page.text), PARTICIPANT.search(page.text)
    assert token and participant, f"{page.status_code}: {page.text[:500]}"
    return RoomAccess(room_id, participant.group(1), token.group(1))


class Socket:
    """A room WebSocket client that waits for messages with a timeout."""

    def __init__(self, base: str, room_id: str, token: str, after_seq: int = 0) -> None:
        ws_base = base.replace("http://", "ws://")
        url = f"{ws_base}/ws/rooms/{room_id}?token={token}&after_seq={after_seq}"
        client = connect(url, open_timeout=10, max_size=4 << 20, max_queue=None)
        self.ws: ClientConnection = client.__enter__()
        self.seen: list[dict[str, Any]] = []
        OPEN.append(self)

    def send(self, message: dict[str, Any] | str) -> None:
        self.ws.send(message if isinstance(message, str) else json.dumps(message))

    def until(self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 10.0
              ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                types = [m["type"] for m in self.seen[-20:]]
                raise TimeoutError(f"no matching message; last seen: {types}")
            message = json.loads(self.ws.recv(timeout=remaining))
            self.seen.append(message)
            if predicate(message):
                return message

    def expect(self, type_: str, timeout: float = 10.0, **fields: Any) -> dict[str, Any]:
        return self.until(lambda m: m["type"] == type_ and all(
            m.get(k) == v for k, v in fields.items()), timeout)

    def close(self) -> None:
        self.ws.close()
