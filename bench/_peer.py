"""The people of a live-room benchmark: a room socket that records every `caption` message
with its arrival time, and, for a speaker, an aiortc peer connection that publishes a
`SpeechTrack` (the server's peer answers; the socket carries the signaling)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from typing import Any

from _speech import SpeechTrack
from aiortc import (
    RTCBundlePolicy,
    RTCConfiguration,
    RTCPeerConnection,
    RTCSessionDescription,
)
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed


@dataclass(frozen=True)
class Translation:
    text: str
    route: str


@dataclass(frozen=True)
class Caption:
    at: float
    speaker_id: str
    utterance_id: str
    rev: int
    final: bool
    text: str
    t_start: float
    t_end: float
    """Seconds on the session's clock."""
    lang: str = ""
    translations: dict[str, Translation] = field(default_factory=dict, compare=False)
    """The reader's language's machine translation, when the message carries one."""
    pending: tuple[str, ...] = ()
    """Languages whose translation comes in a later revision (Whisper's speech->English)."""


class Person:
    """A room socket; with a track, also a peer connection that publishes it (a speaker)."""

    def __init__(self, base: str, room_id: str, token: str, track: SpeechTrack | None) -> None:
        self.url = f"{base}/ws/rooms/{room_id}?token={token}"
        self.track = track
        self.pc: RTCPeerConnection | None = None
        self.ws: ClientConnection | None = None
        self.me = ""
        self.captions: list[Caption] = []
        self.errors: list[str] = []
        self.arrived = asyncio.Event()
        """Set when a caption arrives (clear it before waiting for the next)."""
        self._welcome = asyncio.Event()
        self._answered = asyncio.Event()
        self._connected = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None

    async def open(self) -> None:
        self.ws = await connect(self.url, open_timeout=30, max_size=4 << 20, max_queue=None)
        self._reader = asyncio.create_task(self._read())
        await asyncio.wait_for(self._welcome.wait(), 30)

    async def publish(self, within: float = 30.0) -> None:
        """Offer the track and wait until the server's peer of this person is connected."""
        assert self.track is not None and self.ws is not None
        self.pc = RTCPeerConnection(
            RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))
        self.pc.addTransceiver(self.track, direction="sendonly")
        await self.pc.setLocalDescription(await self.pc.createOffer())
        await self.ws.send(json.dumps({"type": "rtc.offer", "sdp": self.pc.localDescription.sdp}))
        await asyncio.wait_for(self._connected.wait(), within)

    async def _read(self) -> None:
        assert self.ws is not None
        with contextlib.suppress(ConnectionClosed):
            async for raw in self.ws:
                at = time.monotonic()
                message = json.loads(raw)
                kind = message["type"]
                if kind == "caption":
                    self.captions.append(caption_of(message, at))
                    self.arrived.set()
                elif kind == "welcome":
                    self.me = message["you"]["id"]
                    self._welcome.set()
                elif kind == "rtc.answer" and self.pc is not None:
                    await self.pc.setRemoteDescription(
                        RTCSessionDescription(message["sdp"], "answer"))
                    self._answered.set()
                elif kind == "rtc.offer" and self.pc is not None:
                    await self.pc.setRemoteDescription(
                        RTCSessionDescription(message["sdp"], "offer"))
                    await self.pc.setLocalDescription(await self.pc.createAnswer())
                    await self.ws.send(json.dumps(
                        {"type": "rtc.answer", "sdp": self.pc.localDescription.sdp}))
                elif kind == "rtc.state" and message["participant_id"] == self.me:
                    if message["state"] == "connected":
                        self._connected.set()
                elif kind == "error":
                    self.errors.append(message["code"])

    async def close(self) -> None:
        if self.track is not None:
            self.track.stop()
        if self.pc is not None:
            await self.pc.close()
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(), 5)
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader


def caption_of(message: dict[str, Any], at: float) -> Caption:
    """A `caption` message as it arrived at `at` (`time.monotonic()`)."""
    return Caption(
        at, message["speaker_id"], message["utterance_id"], message["rev"], message["final"],
        message["text"], message["t_start"], message["t_end"], message.get("lang", ""),
        {lang: Translation(t["text"], t["route"])
         for lang, t in (message.get("translations") or {}).items()},
        tuple(message.get("pending") or ()))
