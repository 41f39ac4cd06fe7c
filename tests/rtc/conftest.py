"""Real aiortc client peers on loopback, talking to a `RoomMediaRouter` in the same process.

Signals travel through in-process queues instead of the room WebSocket; everything else (ICE,
DTLS, SRTP, RTP/RTCP, encoding, decoding) is real.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from aiortc import (
    RTCBundlePolicy,
    RTCConfiguration,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.contrib.media import MediaPlayer
from aiortc.mediastreams import MediaStreamError

from media.rtc import (
    IceConfig,
    MediaConfig,
    MediaEvent,
    PeerSession,
    RoomMediaRouter,
    SdpAnswer,
    SdpOffer,
    Signal,
    TrackRoute,
    use_host_addresses,
)

SPEECH = "Counsel Room listens. Each speaker is heard once, and the captions follow the voice."


# -- media files, made at test time ----------------------------------------------------------


@dataclass(frozen=True)
class MediaFiles:
    video: Path
    speech: Path
    """espeak-ng speech followed by one second of silence (so the tail reaches the tap)."""


def _run(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True)


def make_media_files(root: Path) -> MediaFiles:
    """A VP8 test clip and a speech WAV in `root` (skips the test without the tools)."""
    for tool in ("ffmpeg", "espeak-ng", "sox"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    video = root / "clip.webm"
    _run(
        "ffmpeg", "-loglevel", "error", "-f", "lavfi",
        "-i", "testsrc=size=320x240:rate=15", "-t", "4",
        "-c:v", "libvpx", "-b:v", "400k", "-g", "15", str(video),
    )  # fmt: skip
    raw = root / "speech-raw.wav"
    speech = root / "speech.wav"
    _run("espeak-ng", "-s", "150", "-w", str(raw), SPEECH)
    _run("sox", str(raw), str(speech), "pad", "0", "1.0")
    return MediaFiles(video, speech)


@pytest.fixture(scope="session")
def media_files(tmp_path_factory: pytest.TempPathFactory) -> MediaFiles:
    return make_media_files(tmp_path_factory.mktemp("media"))


LOOPBACK_ICE = IceConfig(host_addresses=("127.0.0.1",))
"""The server's peers gather on loopback, so they also accept the clients' loopback candidates
(the address policy refuses loopback otherwise)."""


@pytest.fixture(autouse=True)
def loopback() -> Iterator[None]:
    """aiortc gathers no loopback candidates by default: pin every peer here to 127.0.0.1."""
    with use_host_addresses(LOOPBACK_ICE.host_addresses):
        yield


# -- the room under test ---------------------------------------------------------------------


@dataclass
class Room:
    router: RoomMediaRouter
    events: list[MediaEvent] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def record(self, event: MediaEvent) -> None:
        self.events.append(event)
        self.changed.set()

    async def wait_for_event(self, predicate: Callable[[MediaEvent], bool], within: float) -> Any:
        async with asyncio.timeout(within):
            while not any(predicate(e) for e in self.events):
                self.changed.clear()
                await self.changed.wait()
        return next(e for e in self.events if predicate(e))


@pytest.fixture
def room_config() -> MediaConfig:
    return MediaConfig(ice=LOOPBACK_ICE, ice_timeout_s=10.0)


@pytest.fixture
async def room(room_config: MediaConfig) -> AsyncIterator[Room]:
    holder: list[Room] = []
    router = RoomMediaRouter(room_config, on_event=lambda e: holder[0].record(e))
    holder.append(Room(router))
    yield holder[0]
    await router.close()


# -- client peers ----------------------------------------------------------------------------


@dataclass
class Received:
    """What a client got from one remote participant on one kind."""

    frames: int = 0
    first_at: float | None = None
    max_luma: float = 0.0
    max_rms: float = 0.0


def _luma(frame: Any) -> float:
    return float(frame.to_ndarray(format="gray").mean())


def _rms(frame: Any) -> float:
    samples = frame.to_ndarray().astype(np.float64)
    return float(np.sqrt(np.mean(samples**2)))


class ClientPeer:
    """A participant's browser, played by aiortc: publishes files, answers the server's offers."""

    def __init__(
        self,
        name: str,
        *,
        video: Path | None = None,
        audio: Path | None = None,
        loop_audio: bool = True,
        auto_answer: bool = True,
    ) -> None:
        self.name = name
        self.pc = RTCPeerConnection(
            RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
        )
        self.players: list[Any] = []
        self.routes: dict[str, TrackRoute] = {}
        self.last_offer: SdpOffer | None = None
        self.received: dict[tuple[str, str], Received] = {}
        self.offers: asyncio.Queue[SdpOffer] = asyncio.Queue()
        self.session: PeerSession | None = None
        self.connected_at: float | None = None
        self.changed = asyncio.Condition()
        self._auto_answer = auto_answer
        self._signals: asyncio.Queue[Signal] = asyncio.Queue()
        self._tasks: set[asyncio.Task[None]] = set()
        if video is not None:
            player = MediaPlayer(str(video), loop=True)
            self.players.append(player)
            self.pc.addTrack(player.video)
        if audio is not None:
            player = MediaPlayer(str(audio), loop=loop_audio)
            self.players.append(player)
            self.pc.addTrack(player.audio)
        if video is None and audio is None:
            self.pc.addTransceiver("audio", direction="recvonly")
        self.pc.on("track", self._on_track)
        self.pc.on("connectionstatechange", self._on_state)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def join(self, router: RoomMediaRouter, **options: Any) -> PeerSession:
        """Be added to the room and make the first offer, as the browser would (`options`:
        those of `RoomMediaRouter.add`)."""
        session = self.attach(router, **options)
        await session.handle_offer(await self.make_offer())
        return session

    def attach(self, router: RoomMediaRouter, **options: Any) -> PeerSession:
        """Be added to the room (admitted), without offering yet."""
        self.session = router.add(self.name, self._signals.put, **options)
        self._spawn(self._handle_signals())
        return self.session

    async def make_offer(self) -> str:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return str(self.pc.localDescription.sdp)

    async def _handle_signals(self) -> None:
        while True:
            signal = await self._signals.get()
            if self.pc.signalingState == "closed":
                continue
            if isinstance(signal, SdpAnswer):
                await self.pc.setRemoteDescription(RTCSessionDescription(signal.sdp, "answer"))
            elif self._auto_answer:
                await self.answer(signal)
            else:
                await self.offers.put(signal)

    async def answer(self, offer: SdpOffer) -> None:
        assert self.session is not None
        await self.pc.setRemoteDescription(RTCSessionDescription(offer.sdp, "offer"))
        self.last_offer = offer
        self.routes.update({r.mid: r for r in offer.routes})
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        await self.session.handle_answer(self.pc.localDescription.sdp)
        async with self.changed:
            self.changed.notify_all()

    def _on_state(self) -> None:
        if self.pc.connectionState == "connected" and self.connected_at is None:
            self.connected_at = time.monotonic()

    def _on_track(self, track: Any) -> None:
        mid = next(t.mid for t in self.pc.getTransceivers() if t.receiver.track is track)
        self._spawn(self._consume(track, mid))

    async def _consume(self, track: Any, mid: str) -> None:
        try:
            while True:
                frame = await track.recv()
                route = self.routes.get(mid)
                if route is None:
                    continue
                stats = self.received.setdefault((route.participant_id, track.kind), Received())
                stats.frames += 1
                if stats.first_at is None:
                    stats.first_at = time.monotonic()
                if track.kind == "video" and stats.frames % 5 == 1:
                    stats.max_luma = max(stats.max_luma, _luma(frame))
                elif track.kind == "audio":
                    stats.max_rms = max(stats.max_rms, _rms(frame))
                async with self.changed:
                    self.changed.notify_all()
        except MediaStreamError:
            pass

    def got(self, participant_id: str, kind: str) -> Received:
        return self.received.get((participant_id, kind), Received())

    async def wait_frames(self, participant_id: str, kind: str, count: int, within: float) -> None:
        await self.wait_until(lambda: self.got(participant_id, kind).frames >= count, within)

    async def wait_until(self, predicate: Callable[[], bool], within: float) -> None:
        """Until `predicate` holds after a frame arrived or an offer was answered."""
        async with asyncio.timeout(within), self.changed:
            await self.changed.wait_for(predicate)

    def current_routes(self) -> set[TrackRoute]:
        """The routes of the last offer answered."""
        return set(self.last_offer.routes) if self.last_offer is not None else set()

    async def close(self) -> None:
        for player in self.players:
            for track in (player.audio, player.video):
                if track is not None:
                    track.stop()
        await self.pc.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


@pytest.fixture
async def clients() -> AsyncIterator[Callable[..., ClientPeer]]:
    made: list[ClientPeer] = []

    def make(name: str, **kwargs: Any) -> ClientPeer:
        client = ClientPeer(name, **kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        await client.close()


Poll = Callable[[Callable[[], bool], float], Awaitable[None]]


async def _eventually(predicate: Callable[[], bool], within: float) -> None:
    async with asyncio.timeout(within):
        while not predicate():  # noqa: ASYNC110 - aiortc offers nothing to await here
            await asyncio.sleep(0.02)


@pytest.fixture
def eventually() -> Poll:
    """Poll a condition aiortc gives nothing to await for (server-side counters, teardown)."""
    return _eventually
