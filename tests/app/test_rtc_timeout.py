"""A participant whose peer never completes ICE is dropped after `rtc_ice_timeout_s`.

The client is a real aiortc peer that sends a real offer over the room socket, but with its
candidates stripped and no trickled ones, so the server's ICE agent has nobody to check.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from aiortc import RTCPeerConnection
from websockets.asyncio.client import connect

from rooms.migrate import upgrade
from tests.app.test_rtc_signaling import eventually, services_of
from tests.conftest import app_settings, seed_staff, staff_browser
from tests.live import LiveServer

ICE_TIMEOUT_S = 1.5


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('live') / 'counsel.db'}"
    upgrade(url)
    seed_staff(url)
    settings = app_settings(url, rtc_host_addresses=["127.0.0.1"],
                            rtc_ice_timeout_s=ICE_TIMEOUT_S)
    server = LiveServer(settings).start()
    yield server
    server.stop()


def _without_candidates(sdp: str) -> str:
    lines = [line for line in sdp.split("\r\n")
             if not line.startswith(("a=candidate:", "a=end-of-candidates"))]
    return "\r\n".join(lines)


async def _offer_without_candidates() -> str:
    pc = RTCPeerConnection()
    try:
        pc.addTransceiver("audio", direction="sendonly")
        pc.addTransceiver("video", direction="sendonly")
        await pc.setLocalDescription(await pc.createOffer())
        return _without_candidates(pc.localDescription.sdp)
    finally:
        await pc.close()


async def test_a_peer_that_never_completes_ice_is_dropped_after_the_timeout(
    live: LiveServer,
) -> None:
    counselor = await asyncio.to_thread(staff_browser, live)
    room_id = await asyncio.to_thread(counselor.create_room)
    token = (await asyncio.to_thread(counselor.enter, room_id)).token
    media_rooms = services_of(live).media
    url = f"{live.url.replace('http', 'ws')}/ws/rooms/{room_id}?token={token}"

    async with connect(url, max_size=4 << 20) as ws:
        seen: list[dict[str, Any]] = []

        async def expect(type_: str, within: float = 10.0) -> dict[str, Any]:
            async with asyncio.timeout(within):
                while True:
                    message = json.loads(await ws.recv())
                    seen.append(message)
                    if message["type"] == type_:
                        return message

        await expect("rtc.config")
        await ws.send(json.dumps({"type": "rtc.offer", "sdp": await _offer_without_candidates()}))
        offered = time.monotonic()
        await expect("rtc.answer")  # never applied: this client's ICE never starts
        assert media_rooms.counts(room_id).peers == 1

        dropped = await expect("rtc.dropped", within=ICE_TIMEOUT_S + 10)
        waited = time.monotonic() - offered
        assert dropped["reason"] == "ice_timeout"
        assert ICE_TIMEOUT_S - 0.2 <= waited < ICE_TIMEOUT_S + 5, waited
        assert not any(m["type"] == "rtc.state" and m["state"] == "connected" for m in seen)
        await eventually(lambda: room_id not in media_rooms.room_ids, within=5)
        assert media_rooms.counts(room_id).peers == 0

        # the socket and the room keep working
        await ws.send(json.dumps({"type": "chat.send", "client_id": "after", "text": "still here"}))
        await expect("chat.ack")
