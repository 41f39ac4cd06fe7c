"""An interpreter's voice channel through a live room: real aiortc peers on the room socket.

The interpreter (the seeded interpreter account, assigned to the room in the database) publishes
speech; a Vietnamese and a Korean reader listen. What each listener receives (the server's offers
and their routes, and decoded audio frames on the m-line routed from the interpreter) shows who
hears the interpreter: nobody without a channel, then only the readers of the channel's language,
following a change of channel and a change of reading language. Unassigned interpreters and other
roles are refused.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiortc import RTCBundlePolicy, RTCConfiguration, RTCPeerConnection
from aiortc.contrib.media import MediaPlayer
from aiortc.mediastreams import MediaStreamError

from rooms import interpreters
from rooms.db import make_engine, make_sessionmaker
from rooms.migrate import upgrade
from rooms.staff import find_staff_by_email
from tests.app.test_rtc_signaling import RtcClient, eventually, services_of
from tests.conftest import COUNSELOR, INTERPRETER, app_settings, seed_staff, staff_browser
from tests.live import Browser, LiveServer
from tests.rtc.conftest import MediaFiles, _rms, make_media_files

HEARD = 25  # 20-ms audio frames: half a second of the interpreter's voice


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A live server whose peers gather ICE candidates on loopback only."""
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('live') / 'counsel.db'}"
    upgrade(url)
    seed_staff(url)
    server = LiveServer(app_settings(url, rtc_host_addresses=["127.0.0.1"],
                                     rtc_ice_timeout_s=10.0)).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> MediaFiles:
    return make_media_files(tmp_path_factory.mktemp("media"))


class Peer(RtcClient):
    """A participant's page played by aiortc: sends `speech` (an interpreter) or only listens
    (one receive-only audio m-line); counts the audio frames received per speaker."""

    def __init__(self, live: LiveServer, room_id: str, token: str, speech: Path | None) -> None:
        # RtcClient's own __init__ adds a test video and speech; its signaling is used as is
        self.url = f"{live.url.replace('http', 'ws')}/ws/rooms/{room_id}?token={token}"
        self.pc = RTCPeerConnection(
            RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))
        self.players = []
        if speech is not None:
            self.players.append(MediaPlayer(str(speech), loop=True))
            self.pc.addTrack(self.players[0].audio)
        else:
            self.pc.addTransceiver("audio", direction="recvonly")
        self.pc.on("track", self._on_track)
        self.routes: dict[str, dict[str, Any]] = {}
        self.offers: list[dict[str, Any]] = []
        self.received = {}
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.pending: list[dict[str, Any]] = []
        self.ws = None
        self.me = ""
        self._tasks: set[asyncio.Task[None]] = set()
        self.heard: dict[str, int] = {}
        self.loudest: dict[str, float] = {}
        self.changed = asyncio.Condition()

    async def connect_media(self) -> None:
        await self.expect("rtc.config")
        await self.offer()
        await self.expect("rtc.answer")
        await self.expect("rtc.state", within=15, participant_id=self.me, state="connected")

    async def _consume(self, track: Any, mid: str) -> None:
        try:
            while True:
                frame = await track.recv()
                route = self.routes.get(mid)
                if route is None or track.kind != "audio":
                    continue
                speaker = route["participant_id"]
                self.heard[speaker] = self.heard.get(speaker, 0) + 1
                self.loudest[speaker] = max(self.loudest.get(speaker, 0.0), _rms(frame))
                async with self.changed:
                    self.changed.notify_all()
        except MediaStreamError:
            pass

    async def hears(self, speaker: str, frames: int, within: float = 10.0) -> None:
        async with asyncio.timeout(within), self.changed:
            await self.changed.wait_for(lambda: self.heard.get(speaker, 0) >= frames)

    async def routed(self, expected: set[tuple[str, str, str | None]]) -> None:
        """The server's next offer routes exactly `expected` (participant, kind, channel)."""
        await self.until(lambda m: m["type"] == "rtc.offer" and {
            (r["participant_id"], r["kind"], r.get("channel")) for r in m["routes"]} == expected)


@pytest.fixture
async def peers(live: LiveServer) -> AsyncIterator[Callable[..., Peer]]:
    made: list[Peer] = []

    def make(room_id: str, token: str, speech: Path | None = None) -> Peer:
        peer = Peer(live, room_id, token, speech)
        made.append(peer)
        return peer

    yield make
    for peer in made:
        await peer.close()


async def _in_database(live: LiveServer, change: Callable[..., Any]) -> None:
    """Run `change(session, interpreter, counselor)` in a transaction on the server's database."""
    engine = make_engine(services_of(live).settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            interpreter = await find_staff_by_email(session, INTERPRETER[0])
            counselor = await find_staff_by_email(session, COUNSELOR[0])
            await change(session, interpreter, counselor)
    finally:
        await engine.dispose()


async def _assign(live: LiveServer, room_id: str, languages: list[str]) -> None:
    await _in_database(live, lambda session, interpreter, counselor: interpreters.assign(
        session, room_id=room_id, interpreter=interpreter, languages=languages,
        assigned_by=counselor))


async def _unassign(live: LiveServer, room_id: str) -> None:
    await _in_database(live, lambda session, interpreter, _: interpreters.unassign(
        session, room_id=room_id, staff_id=interpreter.id))


def _reader_token(live: LiveServer, counselor: Browser, room_id: str, language: str) -> str:
    link, code = counselor.invite(room_id, "worker", label=f"{language} reader")
    reader = Browser(live.url)
    assert reader.join(link, code, name=f"Reader {language}", language=language).status_code == 200
    return reader.room(room_id).token


async def _room(live: LiveServer) -> tuple[str, str, str, str]:
    """An open auto-admit room with the interpreter assigned (Vietnamese and Korean): the room
    and the room tokens of the interpreter, a Vietnamese reader and a Korean reader."""
    counselor = await asyncio.to_thread(staff_browser, live)
    room_id = await asyncio.to_thread(counselor.create_room, auto_admit=True)
    await _assign(live, room_id, ["ko", "vi"])
    interpreter = await asyncio.to_thread(staff_browser, live, "interpreter")
    interpreter_token = (await asyncio.to_thread(interpreter.enter, room_id)).token
    vi_token = await asyncio.to_thread(_reader_token, live, counselor, room_id, "vi")
    ko_token = await asyncio.to_thread(_reader_token, live, counselor, room_id, "ko")
    return room_id, interpreter_token, vi_token, ko_token


async def _choose(interpreter: Peer, language: str | None) -> dict[str, Any]:
    await interpreter.send({"type": "interpret.channel", "language": language})
    return await interpreter.until(lambda m: m["type"] in ("interpret.channel", "error"))


async def test_the_interpreters_channel_reaches_only_its_readers(
    live: LiveServer, peers: Callable[..., Peer], media: MediaFiles
) -> None:
    room_id, interpreter_token, vi_token, ko_token = await _room(live)
    media_rooms = services_of(live).media
    vi, ko = peers(room_id, vi_token), peers(room_id, ko_token)
    for reader in (vi, ko):
        assert (await reader.open())["admission"] == "admitted"
        await reader.connect_media()
    interpreter = peers(room_id, interpreter_token, media.speech)
    assert (await interpreter.open())["you"]["role"] == "interpreter"
    await interpreter.connect_media()
    # the interpreter's voice reaches the server (and its audio tap, for captions) ...
    await eventually(lambda: media_rooms.counts(room_id).open_taps == 1, within=10)
    # ... but with no channel chosen, nobody: no reader was offered anything
    assert vi.offers == [] and ko.offers == []

    assert await _choose(interpreter, "vi") == {"type": "interpret.channel", "v": 1,
                                                "language": "vi"}
    await vi.routed({(interpreter.me, "audio", "vi")})
    await vi.hears(interpreter.me, HEARD)
    assert vi.loudest[interpreter.me] > 100, "decoded, not silent"
    assert ko.offers == [] and interpreter.me not in ko.heard
    assert len(ko.pc.getTransceivers()) == 1, "not even an m-line reaches the Korean reader"

    # the interpreter switches to Korean: it moves from one reader to the other
    await _choose(interpreter, "ko")
    await ko.routed({(interpreter.me, "audio", "ko")})
    await vi.routed(set())
    await ko.hears(interpreter.me, HEARD)

    # the Vietnamese reader now reads Korean: the Korean channel reaches them as well
    heard = vi.heard[interpreter.me]
    await vi.send({"type": "reading.set", "language": "ko"})
    await vi.routed({(interpreter.me, "audio", "ko")})
    await vi.hears(interpreter.me, heard + HEARD)

    # back to no channel: nobody
    await _choose(interpreter, None)
    await vi.routed(set())
    await ko.routed(set())
    assert media_rooms.counts(room_id).forwarding_tracks == 0


async def test_only_assigned_interpreters_choose_a_channel_of_their_languages(
    live: LiveServer, peers: Callable[..., Peer]
) -> None:
    room_id, interpreter_token, vi_token, _ = await _room(live)
    interpreter, reader = peers(room_id, interpreter_token), peers(room_id, vi_token)
    await interpreter.open()
    await reader.open()

    await reader.send({"type": "interpret.channel", "language": "vi"})
    assert (await reader.expect("error"))["code"] == "forbidden"
    assert (await _choose(interpreter, "en"))["code"] == "forbidden", "not one of theirs"
    assert (await _choose(interpreter, "xx"))["code"] == "unsupported_language"
    assert (await _choose(interpreter, "vi"))["language"] == "vi"

    await _unassign(live, room_id)
    refused = await _choose(interpreter, "ko")
    assert (refused["type"], refused["code"]) == ("error", "forbidden")
    assert services_of(live).media.channel(room_id, interpreter.me) == "vi"
