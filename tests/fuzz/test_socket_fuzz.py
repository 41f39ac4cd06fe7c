"""The room socket, fuzzed: ≥ 10,000 Hypothesis-generated frames (valid and invalid messages of
every type) from a socket of every role against a live server. Nothing may answer `internal`,
answer an undocumented error code, close a socket abnormally (1006, 1011), log an unhandled
exception, or leave the server slow for the next client.

Reproducible: derandomized, no example database. `COUNSEL_FUZZ_EXAMPLES` runs longer (each
example is `BATCH` frames)."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiortc import RTCPeerConnection
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from rooms.migrate import upgrade
from tests.conftest import app_settings, seed_staff, staff_browser
from tests.fuzz.frames import frames
from tests.fuzz.rig import ROLES, FuzzRoom, Staff, Tally
from tests.live import LiveServer, Socket

pytestmark = [
    pytest.mark.fuzz,
    # The live server runs in a thread of this process, and aiortc's RTCP loop there calls
    # random.random() whenever it runs: Hypothesis sees the global random state move during a
    # draw and blames the strategies (a deprecation warning, an error here). Ours use none.
    pytest.mark.filterwarnings(
        "ignore:Do not use the `random` module inside strategies"
        ":hypothesis.errors.HypothesisDeprecationWarning"),
]

BATCH = 40
EXAMPLES = int(os.environ.get("COUNSEL_FUZZ_EXAMPLES", "260"))
MIN_FRAMES = 10_000
ROOM_EXAMPLES = 60
"""A fresh room now and then keeps each room's chat history (sent on every `chat.sync`) short."""
PROTOCOL = Path(__file__).parents[2] / "docs" / "protocol.md"
CLOSED_BY_PROTOCOL = {4403, 4410, 4429, 1008}
"""Removed or denied, the room ended, too many sockets, too many refused frames."""
LIMITLESS = 1_000_000
BROKEN = ("Exception in ASGI application", "room socket action failed",
          "Task exception was never retrieved", "reads too slowly")


def documented_error_codes() -> set[str]:
    text = PROTOCOL.read_text()
    section = text[text.index("Error codes:"):text.index("Chat guarantees")]
    return set(re.findall(r"`([a-z_]+)`", section))


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A live server whose rate limits stay out of the way (they have their own tests): the
    fuzz is of the handlers behind them."""
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('fuzz') / 'counsel.db'}"
    upgrade(url)
    seed_staff(url)
    server = LiveServer(app_settings(
        url, ws_rate_per_second=LIMITLESS, ws_rate_burst=LIMITLESS,
        chat_rate_per_second=LIMITLESS, chat_rate_burst=LIMITLESS,
        chat_rate_per_address_per_second=LIMITLESS, chat_rate_per_address_burst=LIMITLESS,
        captions_enabled=False,
        join_limit_per_address=f"{LIMITLESS} per minute",
        login_limit_per_address=f"{LIMITLESS} per minute",
        login_limit_per_account=f"{LIMITLESS} per minute")).start()
    yield server
    server.stop()


class Recorder(logging.Handler):
    """Every warning or error the server logs (it runs in this process, on another thread)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def broken(self) -> list[str]:
        return [f"{r.name}: {r.getMessage()}" for r in self.records
                if r.levelno >= logging.ERROR or any(b in r.getMessage() for b in BROKEN)]


@pytest.fixture
def server_log(fuzz_server: LiveServer) -> Iterator[Recorder]:
    recorder = Recorder()
    loggers = [logging.getLogger(), logging.getLogger("uvicorn")]
    for logger in loggers:
        logger.addHandler(recorder)
    yield recorder
    for logger in loggers:
        logger.removeHandler(recorder)


def offer_sdp() -> str:
    """A real browser-like offer (one receive-only audio m-line), made by aiortc."""
    async def make() -> str:
        pc = RTCPeerConnection()
        pc.addTransceiver("audio", direction="recvonly")
        await pc.setLocalDescription(await pc.createOffer())
        sdp: str = pc.localDescription.sdp
        await pc.close()
        return sdp
    return asyncio.run(make())


def fuzz(live: LiveServer, tally: Tally) -> None:
    staff = Staff(staff_browser(live), staff_browser(live, "admin"),
                  staff_browser(live, "interpreter"))
    sdp = offer_sdp()
    current: list[FuzzRoom] = []
    examples = 0

    def room() -> FuzzRoom:
        if current and not current[0].spent and examples % ROOM_EXAMPLES:
            return current[0]
        if current:
            current.pop().close()
        current.append(FuzzRoom(live, staff, tally))
        current[0].targets.offer_sdp = sdp
        return current[0]

    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(st.data())
    def batch(data: st.DataObject) -> None:
        nonlocal examples
        rig = room()
        examples += 1
        pick = st.tuples(st.sampled_from(ROLES), frames(rig.targets))
        try:
            for _ in range(BATCH):
                role, frame = data.draw(pick)
                rig.send(role, frame)
        finally:
            rig.settle_all()

    batch()
    if current:
        current[0].close()


def test_fuzzed_frames_from_every_role_break_nothing(fuzz_server: LiveServer,
                                                     server_log: Recorder) -> None:
    tally = Tally()
    began = time.monotonic()
    fuzz(fuzz_server, tally)
    elapsed = time.monotonic() - began
    print(f"\n{tally.sent} frames in {elapsed:.0f} s over {tally.rooms} rooms; "
          f"per role {dict(tally.frames)}; errors {dict(tally.errors)}; "
          f"closes {dict(tally.closes)}; replies {dict(tally.replies)}")

    assert tally.sent >= min(MIN_FRAMES, EXAMPLES * BATCH)
    assert set(tally.frames) == set(ROLES)
    assert tally.errors["internal"] == 0
    assert set(tally.errors) <= documented_error_codes()
    assert set(tally.closes) <= CLOSED_BY_PROTOCOL, tally.closes
    assert tally.unanswered == []
    assert server_log.broken() == []
    assert_still_serving(fuzz_server)


def assert_still_serving(live: LiveServer) -> None:
    """A fresh client, after the run: welcomed and answered at once."""
    counselor = staff_browser(live)
    room_id = counselor.create_room(title="After the fuzz")
    began = time.monotonic()
    socket = Socket(live.url, room_id, counselor.enter(room_id).token)
    socket.expect("welcome", timeout=5)
    socket.send({"type": "ping", "nonce": "after"})
    socket.expect("pong", timeout=5, nonce="after")
    assert time.monotonic() - began < 5
    socket.send(json.dumps({"type": "chat.send", "client_id": "after", "text": "still here"}))
    socket.expect("chat.ack", timeout=5, client_id="after")
