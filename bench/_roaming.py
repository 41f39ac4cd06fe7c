"""A participant whose room socket behaves as `web/static/page-socket.js` does, played by aiortc:
it follows `redirect`s to the node that serves the room, and after any other loss it goes back
to an entry address (the next one when an entry refuses: a load balancer in front of the
nodes) with the page's backoff. On every `rtc.config` it starts a new peer connection with
fresh tracks (as media.js does after a reconnect). It records when media frames, captions and
chat arrived, and resends chat that was not acknowledged, as the page's outbox does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiortc import RTCBundlePolicy, RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

MOVED = 4307
FINAL = {4403, 4410}
MAX_HOPS = 3


@dataclass
class Heard:
    """What arrived, with `time.monotonic()` times."""

    frames: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    """(participant id, kind) -> arrival times of media frames from them."""
    captions: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    chat: dict[str, int] = field(default_factory=dict)
    """client id -> seq of every chat message seen (live or in history)."""
    welcomes: list[tuple[float, str]] = field(default_factory=list)
    """When a socket was welcomed, and by which node (its address)."""
    presence: list[tuple[float, dict[str, bool]]] = field(default_factory=list)

    def last_frame(self, participant_id: str, kind: str) -> float:
        times = self.frames.get((participant_id, kind))
        return times[-1] if times else 0.0

    def frames_after(self, participant_id: str, kind: str, after: float) -> int:
        return sum(1 for t in self.frames.get((participant_id, kind), ()) if t > after)


class Roamer:
    def __init__(self, entries: list[str], room_id: str, token: str,
                 tracks: Callable[[], list[MediaStreamTrack]]) -> None:
        self.entries = entries
        self.entry = 0
        self.room_id = room_id
        self.token = token
        self.tracks = tracks
        self.heard = Heard()
        self.me = ""
        self.node = ""
        """The address of the node whose socket this client holds now ("" between sockets)."""
        self.ws: ClientConnection | None = None
        self.pc: RTCPeerConnection | None = None
        self.routes: dict[str, dict[str, Any]] = {}
        self.outbox: dict[str, str] = {}  # client id -> text, until acknowledged
        self.acked: set[str] = set()
        self.errors: list[str] = []
        self.redirects: list[tuple[float, str]] = []
        """When a `redirect` came, and where to ("": back to the entry)."""
        self.changed = asyncio.Event()
        """Set whenever something arrives (clear it before waiting)."""
        self._task: asyncio.Task[None] | None = None
        self._media: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="roamer")

    def say(self, text: str) -> str:
        client_id = uuid.uuid4().hex
        self.outbox[client_id] = text
        self._send_soon({"type": "chat.send", "client_id": client_id, "text": text})
        return client_id

    def _send_soon(self, message: dict[str, Any]) -> None:
        if self.ws is not None:
            task = asyncio.create_task(self._send(message))
            self._media.add(task)
            task.add_done_callback(self._media.discard)

    async def _send(self, message: dict[str, Any]) -> None:
        if self.ws is not None:
            with contextlib.suppress(ConnectionClosed):
                await self.ws.send(json.dumps(message))

    def _url(self, base: str) -> str:
        ws_base = base.replace("http", "ws", 1).rstrip("/")
        return f"{ws_base}/ws/rooms/{self.room_id}?token={self.token}"

    async def _run(self) -> None:
        retry, hops, target = 0, 0, ""
        while True:
            base = target or self.entries[self.entry % len(self.entries)]
            code, redirect = await self._session(base)
            if code in FINAL:
                return
            if code == MOVED and redirect is not None and hops < MAX_HOPS:
                hops, target = hops + 1, redirect
                if not redirect:
                    await asyncio.sleep(0.2 + random.random() * 0.3)
                continue
            if code is None and not target:  # the entry refused: the balancer tries another
                self.entry += 1
            hops, target = 0, ""
            await asyncio.sleep(min(15.0, 0.5 * 2 ** retry) * (0.75 + random.random() / 2))
            retry = 0 if code == -1 else retry + 1

    async def _session(self, base: str) -> tuple[int | None, str | None]:
        """One socket: its close code (None: it never opened; -1: it had been welcomed and
        then lost) and the redirect it was given."""
        try:
            ws = await connect(self._url(base), open_timeout=5, max_size=4 << 20,
                               max_queue=None)
        except (OSError, InvalidHandshake, TimeoutError):
            return None, None
        self.ws, redirect, welcomed = ws, None, False
        last_heard = [time.monotonic()]
        watchdog = asyncio.create_task(self._watch(ws, last_heard))
        try:
            async for raw in ws:
                last_heard[0] = time.monotonic()
                message = json.loads(raw)
                if message["type"] == "redirect":
                    redirect = message.get("url") or ""
                    self.redirects.append((time.monotonic(), redirect))
                    continue
                if message["type"] == "welcome":
                    welcomed = True
                    self.me, self.node = message["you"]["id"], base
                    self.heard.welcomes.append((time.monotonic(), base))
                    for client_id, text in self.outbox.items():  # the page's resend
                        self._send_soon({"type": "chat.send", "client_id": client_id,
                                         "text": text})
                try:
                    await self._on(message)
                except Exception as exc:  # a page logs a failed step and goes on
                    self.errors.append(f"{message['type']}: {exc!r}")
                self.changed.set()
        except (ConnectionClosed, OSError):
            pass
        finally:
            watchdog.cancel()
            self.ws, self.node = None, ""
            await self._stop_peer()
        code = ws.close_code or 1006
        return (-1 if welcomed and code not in FINAL and code != MOVED else code), redirect

    async def _watch(self, ws: ClientConnection, last_heard: list[float]) -> None:
        """As the page: a ping every 5 s, unacknowledged chat resent every 4 s, and a socket
        silent for 10 s given up."""
        started = time.monotonic()
        pinged = resent = started
        while True:
            await asyncio.sleep(0.5)
            now = time.monotonic()
            if now - last_heard[0] > 10:
                await ws.close()
                return
            if now - pinged >= 5:
                pinged = now
                await self._send({"type": "ping"})
            if now - resent >= 4:
                resent = now
                for client_id, text in list(self.outbox.items()):
                    await self._send({"type": "chat.send", "client_id": client_id,
                                      "text": text})

    async def _on(self, message: dict[str, Any]) -> None:
        kind, now = message["type"], time.monotonic()
        if kind == "rtc.config":
            await self._start_peer()
        elif kind == "rtc.answer" and self.pc is not None:
            await self.pc.setRemoteDescription(RTCSessionDescription(message["sdp"], "answer"))
        elif kind == "rtc.offer" and self.pc is not None:
            self.routes.update({r["mid"]: r for r in message["routes"]})
            await self.pc.setRemoteDescription(RTCSessionDescription(message["sdp"], "offer"))
            await self.pc.setLocalDescription(await self.pc.createAnswer())
            await self._send({"type": "rtc.answer", "sdp": self.pc.localDescription.sdp})
        elif kind == "caption":
            self.heard.captions.append((now, message))
        elif kind == "chat.ack":
            self.acked.add(message["client_id"])
            self.outbox.pop(message["client_id"], None)
        elif kind == "chat.message":
            self.heard.chat[message["message"]["client_id"]] = message["message"]["seq"]
        elif kind == "chat.history":
            for item in message["messages"]:
                self.heard.chat[item["client_id"]] = item["seq"]
        elif kind == "error":
            self.errors.append(f"error: {message['code']}")
        elif kind == "presence":
            self.heard.presence.append(
                (now, {p["id"]: p["online"] for p in message["participants"]}))

    async def _start_peer(self) -> None:
        await self._stop_peer()
        pc = RTCPeerConnection(
            RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))
        self.pc, self.routes = pc, {}
        for track in self.tracks():
            pc.addTransceiver(track, direction="sendrecv")
        pc.on("track", lambda track: self._consume(pc, track))
        await pc.setLocalDescription(await pc.createOffer())
        await self._send({"type": "rtc.offer", "sdp": pc.localDescription.sdp, "restart": True})

    def _consume(self, pc: RTCPeerConnection, track: MediaStreamTrack) -> None:
        mid = next(t.mid for t in pc.getTransceivers() if t.receiver.track is track)

        async def read() -> None:
            with contextlib.suppress(MediaStreamError):
                while True:
                    await track.recv()
                    route = self.routes.get(mid or "")
                    if route is not None and pc is self.pc:
                        key = (route["participant_id"], track.kind)
                        self.heard.frames.setdefault(key, []).append(time.monotonic())

        task = asyncio.create_task(read())
        self._media.add(task)
        task.add_done_callback(self._media.discard)

    async def _stop_peer(self) -> None:
        pc, self.pc = self.pc, None
        if pc is not None:
            for sender in pc.getSenders():
                if sender.track is not None:
                    sender.track.stop()
            await pc.close()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(), 5)
        await self._stop_peer()
        for task in list(self._media):
            task.cancel()
        await asyncio.gather(*self._media, return_exceptions=True)
