"""WebRTC signaling through the real room socket of a live server, with real aiortc client peers.

The server's media router runs in the live server's thread; the clients run in the test's event
loop and talk to it over `rtc.*` messages on `/ws/rooms/...`, and over ICE/DTLS/SRTP on loopback.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiortc import RTCBundlePolicy, RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaPlayer
from aiortc.mediastreams import MediaStreamError
from websockets.asyncio.client import ClientConnection, connect

from rooms.migrate import upgrade
from server.media_rooms import ice_config
from server.services import Services
from tests.conftest import app_settings, seed_staff, staff_browser
from tests.live import Browser, LiveServer, Socket
from tests.rtc.conftest import MediaFiles, Received, _luma, _rms, make_media_files

VIDEO_FRAMES = 15
AUDIO_FRAMES = 50


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A live server whose peers gather ICE candidates on loopback only."""
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('live') / 'counsel.db'}"
    upgrade(url)
    seed_staff(url)
    settings = app_settings(url, rtc_host_addresses=["127.0.0.1"], rtc_ice_timeout_s=10.0,
                            rtc_stun_urls=["stun:stun.example.org:3478"])
    server = LiveServer(settings).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> MediaFiles:
    return make_media_files(tmp_path_factory.mktemp("media"))


def services_of(live: LiveServer) -> Services:
    services: Services = live.server.config.app.state.services
    return services


async def eventually(predicate: Callable[[], bool], within: float) -> None:
    async with asyncio.timeout(within):
        while not predicate():  # noqa: ASYNC110 - state lives in the server's thread
            await asyncio.sleep(0.05)


class RtcClient:
    """A participant's browser played by aiortc, signaling over the real room socket."""

    def __init__(self, live: LiveServer, room_id: str, token: str, media: MediaFiles) -> None:
        self.url = f"{live.url.replace('http', 'ws')}/ws/rooms/{room_id}?token={token}"
        self.pc = RTCPeerConnection(
            RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))
        self.players = [MediaPlayer(str(media.video), loop=True),
                        MediaPlayer(str(media.speech), loop=True)]
        self.pc.addTrack(self.players[0].video)
        self.pc.addTrack(self.players[1].audio)
        self.pc.on("track", self._on_track)
        self.routes: dict[str, dict[str, Any]] = {}
        self.offers: list[dict[str, Any]] = []
        self.received: dict[tuple[str, str], Received] = {}
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.pending: list[dict[str, Any]] = []
        self.ws: ClientConnection | None = None
        self.me = ""
        self._tasks: set[asyncio.Task[None]] = set()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def open(self) -> dict[str, Any]:
        self.ws = await connect(self.url, max_size=4 << 20)
        self._spawn(self._read())
        welcome = await self.expect("welcome")
        self.me = welcome["you"]["id"]
        return welcome

    async def send(self, message: dict[str, Any]) -> None:
        assert self.ws is not None
        await self.ws.send(json.dumps(message))

    async def until(self, predicate: Callable[[dict[str, Any]], bool], within: float = 10.0
                    ) -> dict[str, Any]:
        """The first message not yet taken that matches (others stay for later calls)."""
        async with asyncio.timeout(within):
            while True:
                for i, message in enumerate(self.pending):
                    if predicate(message):
                        return self.pending.pop(i)
                self.pending.append(await self.inbox.get())

    async def expect(self, type_: str, within: float = 10.0, **fields: Any) -> dict[str, Any]:
        return await self.until(lambda m: m["type"] == type_ and all(
            m.get(k) == v for k, v in fields.items()), within)

    async def offer_routing(self, expected: set[tuple[str, str]]) -> dict[str, Any]:
        """The server's next offer whose routes are exactly `expected` (participant, kind)."""
        return await self.until(lambda m: m["type"] == "rtc.offer" and {
            (r["participant_id"], r["kind"]) for r in m["routes"]} == expected)

    async def offer(self) -> None:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        await self.send({"type": "rtc.offer", "sdp": self.pc.localDescription.sdp})

    async def _read(self) -> None:
        assert self.ws is not None
        async for raw in self.ws:
            message = json.loads(raw)
            if message["type"] == "rtc.answer":
                await self.pc.setRemoteDescription(RTCSessionDescription(message["sdp"], "answer"))
            elif message["type"] == "rtc.offer":
                self.offers.append(message)
                await self.pc.setRemoteDescription(RTCSessionDescription(message["sdp"], "offer"))
                self.routes.update({r["mid"]: r for r in message["routes"]})
                await self.pc.setLocalDescription(await self.pc.createAnswer())
                await self.send({"type": "rtc.answer", "sdp": self.pc.localDescription.sdp})
            await self.inbox.put(message)

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
                stats = self.received.setdefault((route["participant_id"], track.kind),
                                                 Received())
                stats.frames += 1
                if track.kind == "video" and stats.frames % 5 == 1:
                    stats.max_luma = max(stats.max_luma, _luma(frame))
                elif track.kind == "audio":
                    stats.max_rms = max(stats.max_rms, _rms(frame))
        except MediaStreamError:
            pass

    def got(self, participant_id: str, kind: str) -> Received:
        return self.received.get((participant_id, kind), Received())

    async def close(self) -> None:
        for player in self.players:
            for track in (player.audio, player.video):
                if track is not None:
                    track.stop()
        await self.pc.close()
        if self.ws is not None:
            await self.ws.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


@pytest.fixture
async def rtc_clients(live: LiveServer, media: MediaFiles
                      ) -> AsyncIterator[Callable[[str, str], RtcClient]]:
    made: list[RtcClient] = []

    def make(room_id: str, token: str) -> RtcClient:
        client = RtcClient(live, room_id, token, media)
        made.append(client)
        return client

    yield make
    for client in made:
        await client.close()


def _worker_token(live: LiveServer, counselor: Browser, room_id: str, name: str) -> str:
    link, code = counselor.invite(room_id, "worker", label=name)
    worker = Browser(live.url)
    page = worker.join(link, code, name=name, language="vi")
    assert page.status_code == 200
    return worker.room(room_id).token


async def test_two_participants_see_and_hear_each_other_through_the_room_socket(
    live: LiveServer, rtc_clients: Callable[[str, str], RtcClient]
) -> None:
    counselor = await asyncio.to_thread(staff_browser, live)
    room_id = await asyncio.to_thread(counselor.create_room, auto_admit=True)
    host_token = (await asyncio.to_thread(counselor.enter, room_id)).token
    worker_token = await asyncio.to_thread(_worker_token, live, counselor, room_id, "Tran Thi Mai")
    media_rooms = services_of(live).media

    host = rtc_clients(room_id, host_token)
    await host.open()
    config = await host.expect("rtc.config")
    assert config["ice_servers"] == [{"urls": ["stun:stun.example.org:3478"], "username": None,
                                      "credential": None}]
    await host.offer()
    await host.expect("rtc.answer")
    await host.expect("rtc.state", participant_id=host.me, state="connected")

    worker = rtc_clients(room_id, worker_token)
    assert (await worker.open())["admission"] == "admitted"
    await worker.expect("rtc.config")
    await worker.offer()
    await worker.expect("rtc.answer")
    # the server renegotiates both ways: each gets an offer routing the other's media
    await worker.offer_routing({(host.me, "audio"), (host.me, "video")})
    await host.expect("rtc.state", participant_id=worker.me, state="connected")
    await host.offer_routing({(worker.me, "audio"), (worker.me, "video")})

    await eventually(lambda: all(
        c.got(other.me, "video").frames >= VIDEO_FRAMES
        and c.got(other.me, "audio").frames >= AUDIO_FRAMES
        for c, other in ((host, worker), (worker, host))), within=15)
    for client, other in ((host, worker), (worker, host)):
        assert client.got(other.me, "video").max_luma > 20, "decoded, not black"
        assert client.got(other.me, "audio").max_rms > 100, "decoded, not silent"
    assert media_rooms.counts(room_id).peers == 2

    # the worker leaves: their peer goes, the host's m-lines for them turn inactive
    await worker.close()
    await eventually(lambda: media_rooms.counts(room_id).peers == 1, within=5)
    await host.offer_routing(set())
    await host.close()
    await eventually(lambda: room_id not in media_rooms.room_ids, within=5)
    assert media_rooms.counts(room_id).peers == 0


def test_bad_signals_get_typed_errors_and_the_room_keeps_working(live: LiveServer) -> None:
    counselor = staff_browser(live)
    room_id = counselor.create_room()
    socket = Socket(live.url, room_id, counselor.enter(room_id).token)
    socket.expect("rtc.config")
    socket.send({"type": "rtc.offer", "sdp": "this is not SDP"})
    error = socket.expect("error")
    assert (error["code"], error["ref"]) == ("invalid_sdp", "rtc.offer")
    socket.send({"type": "rtc.answer", "sdp": "v=0\r\n"})
    assert socket.expect("error")["code"] == "out_of_order"
    socket.send({"type": "rtc.candidate", "candidate": "candidate:junk", "sdp_mid": "0"})
    assert socket.expect("error")["code"] == "out_of_order"
    socket.send({"type": "rtc.offer"})
    assert socket.expect("error")["code"] == "invalid_message"
    assert services_of(live).media.counts(room_id).peers == 0
    socket.send({"type": "chat.send", "client_id": "after", "text": "still here"})
    socket.expect("chat.ack", client_id="after")


def test_a_waiting_person_gets_no_media_until_admitted(live: LiveServer) -> None:
    counselor = staff_browser(live)
    room_id = counselor.create_room()
    host = Socket(live.url, room_id, counselor.enter(room_id).token)
    host.expect("rtc.config")
    waiting = Socket(live.url, room_id, _worker_token(live, counselor, room_id, "Le Van Binh"))
    me = waiting.expect("welcome")["you"]["id"]
    waiting.expect("lobby.waiting")
    waiting.send({"type": "rtc.offer", "sdp": "v=0\r\n"})
    assert waiting.expect("error")["code"] == "not_admitted"
    assert all(m["type"] != "rtc.config" for m in waiting.seen)
    assert services_of(live).media.counts(room_id).peers == 0

    host.send({"type": "lobby.admit", "participant_id": me})
    waiting.expect("lobby.admitted", participant_id=me)
    waiting.expect("rtc.config")


def test_rtc_settings_issue_turn_credentials(tmp_path: Path) -> None:
    settings = app_settings(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}",
                            rtc_turn_urls=["turn:turn.example.org:3478"],
                            rtc_turn_secret="coturn-secret", rtc_turn_ttl_s=600)
    (turn,) = ice_config(settings).ice_servers("participant-1")
    expiry, user = str(turn.username).split(":")
    assert user == "participant-1" and 590 < int(expiry) - time.time() <= 600
    assert turn.credential and len(base64.b64decode(turn.credential)) == 20  # HMAC-SHA1


async def _offer(pc: RTCPeerConnection, *kinds: str) -> str:
    for kind in kinds:
        pc.addTransceiver(kind, direction="recvonly")
    await pc.setLocalDescription(await pc.createOffer())
    return str(pc.localDescription.sdp)


async def test_each_answer_names_the_offer_it_answers(live: LiveServer) -> None:
    """A page that starts a new peer connection (after "Try again") before the old one's offer
    was answered gets both answers, in order; each names its offer, so the page applies only
    its new one (the older answer's m-lines are not its offer's: Chromium refused it)."""
    counselor = await asyncio.to_thread(staff_browser, live)
    room_id = await asyncio.to_thread(counselor.create_room)
    token = (await asyncio.to_thread(counselor.enter, room_id)).token
    first = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    second = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    url = f"{live.url.replace('http', 'ws')}/ws/rooms/{room_id}?token={token}"
    try:
        async with connect(url) as ws:
            await ws.send(json.dumps({"type": "rtc.offer", "offer_id": "1",
                                      "sdp": await _offer(first, "audio")}))
            await ws.send(json.dumps({"type": "rtc.offer", "offer_id": "2", "restart": True,
                                      "sdp": await _offer(second, "audio", "video")}))
            answers: list[dict[str, Any]] = []
            async with asyncio.timeout(10):
                while len(answers) < 2:
                    message = json.loads(await ws.recv())
                    assert message["type"] != "error", message
                    if message["type"] == "rtc.answer":
                        answers.append(message)
            assert [a["offer_id"] for a in answers] == ["1", "2"]
            assert [a["sdp"].count("\r\nm=") for a in answers] == [1, 2]
            await second.setRemoteDescription(RTCSessionDescription(answers[1]["sdp"], "answer"))
            assert second.signalingState == "stable"
    finally:
        await first.close()
        await second.close()
