"""The caption service's parts that need no speech: the tap buffer that keeps what a speaker says
while the model loads, the service's state as its model loads (or fails to), and the hub's
message to every local socket."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from media.rtc import AudioTap, PcmFrame
from media.speech import CaptionEvent, CaptionKind
from media.speech.models import install
from rooms.bus import InProcessBus
from server.captions import CaptionService, FrameBuffer
from server.settings import Settings
from server.speech_backend import SpeechModels, SpeechUnavailable
from server.ws import protocol as p
from server.ws.hub import RoomHub
from tests.conftest import app_settings
from tests.speech.conftest import MODELS_DIR


def frame(value: int, samples: int = 320) -> PcmFrame:
    return PcmFrame("s", np.full(samples, value, np.int16).tobytes(), 0)


async def test_a_buffer_keeps_every_frame_said_before_anyone_reads_it() -> None:
    tap = AudioTap("s", maxlen=2)  # the tap itself keeps only two frames
    buffered = FrameBuffer(tap)
    for value in range(10):  # a speaker talks while the model loads
        tap.push(frame(value))
        await asyncio.sleep(0)  # the tap's frames arrive one by one, as the router's do
    tap.close()
    assert await buffered.started() and buffered.first_frame_at is not None
    assert [int(samples[0]) async for samples in buffered] == list(range(10))
    assert tap.dropped == 0


async def test_a_buffer_raises_the_taps_error_after_its_frames() -> None:
    async def broken() -> AsyncIterator[PcmFrame]:
        yield frame(1)
        raise ConnectionError("the track ended badly")

    buffered = FrameBuffer(broken())
    assert await buffered.started()
    assert int((await anext(buffered))[0]) == 1
    with pytest.raises(ConnectionError):
        await anext(buffered)


async def test_a_buffer_whose_tap_ends_at_once_never_starts() -> None:
    tap = AudioTap("s", maxlen=2)
    tap.close()
    buffered = FrameBuffer(tap)
    assert not await buffered.started()
    await buffered.aclose()


def test_an_abandoned_event_is_the_next_revision_without_text() -> None:
    partial = CaptionEvent("r", "s", "u1", 3, 0, "en", "hello", CaptionKind.PARTIAL, 1.0, 2.0)
    abandoned = partial.abandoned()
    assert (abandoned.kind, abandoned.rev, abandoned.text) == (CaptionKind.ABANDONED, 4, "")
    assert (abandoned.utterance_id, abandoned.t_start) == ("u1", 1.0)


@pytest.fixture
def installed(tmp_path: Path) -> Settings:
    install("tiny.en", MODELS_DIR)
    return app_settings(f"sqlite+aiosqlite:///{tmp_path / 'c.db'}", models_dir=MODELS_DIR,
                        speech_model="tiny.en")


async def test_the_service_is_starting_until_its_model_loads_then_says_so(
    installed: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = asyncio.Event()
    models = SpeechModels(engine=None, vad=None, multilingual=False)  # type: ignore[arg-type]

    async def open_speech(settings: Settings, resources: AsyncExitStack) -> SpeechModels:
        await release.wait()
        return models

    monkeypatch.setattr("server.captions.open_speech", open_speech)
    service = CaptionService(installed, None, None)  # type: ignore[arg-type]
    heard: list[str] = []
    service.start(on_state=heard.append)
    assert service.state == "starting" and heard == []
    waiting = asyncio.ensure_future(service.models())  # a speaker waits for the model
    release.set()
    assert await waiting is models
    assert (service.state, heard) == ("ready", ["ready"])
    await service.close()


async def test_a_model_that_fails_to_load_makes_captions_unavailable(
    installed: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def open_speech(settings: Settings, resources: AsyncExitStack) -> SpeechModels:
        raise SpeechUnavailable("cannot load speech models: broken file")

    monkeypatch.setattr("server.captions.open_speech", open_speech)
    service = CaptionService(installed, None, None)  # type: ignore[arg-type]
    heard: list[str] = []
    service.start(on_state=heard.append)
    assert await service.models() is None
    assert (service.state, heard, service.enabled) == ("unavailable", ["unavailable"], False)
    assert "broken file" in str(service.disabled_reason)
    await service.close()


class FakeConnection:
    """Stands in for a socket's `Connection`: records what the hub sends it."""

    def __init__(self, room_id: str) -> None:
        self.room_id = room_id
        self.participant_id = f"p-{id(self)}"
        self.sent: list[Any] = []

    def send(self, message: Any) -> None:
        self.sent.append(message)


async def test_the_hub_tells_every_local_socket_of_every_room() -> None:
    bus = InProcessBus()
    hub = RoomHub(bus)
    sockets = [FakeConnection("a"), FakeConnection("a"), FakeConnection("b")]
    for socket in sockets:
        await hub.attach(socket)  # type: ignore[arg-type]
    hub.broadcast_local(p.CaptionsStatus(state="ready"))
    assert [s.sent for s in sockets] == [[p.CaptionsStatus(state="ready")]] * 3
    await hub.close()
    await bus.close()


async def test_consent_given_while_a_task_reads_none_still_captions_the_tap(
    installed: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race: the tap opens, its task reads the speaker's consent (none yet), the speaker
    says yes meanwhile. The old task would end without a caption and the new consent found a
    task on the tap already: nobody read it, captions never came."""
    reading, answer = asyncio.Event(), asyncio.Event()
    asked: list[bool] = []

    async def consenting_speaker(self: CaptionService, room_id: str, participant_id: str
                                 ) -> None:
        asked.append(True)
        if len(asked) == 1:  # the first task reads "no consent", slowly
            reading.set()
            await answer.wait()
        return None

    monkeypatch.setattr(CaptionService, "_consenting_speaker", consenting_speaker)
    service = CaptionService(installed, None, None)  # type: ignore[arg-type]
    tap = AudioTap("s", maxlen=100)
    service.on_audio_tap("room", "s", tap)
    await reading.wait()
    await service.consent_changed("room", "s", True)  # stored as yes while the task reads
    answer.set()
    await asyncio.sleep(0)
    assert len(asked) == 2  # a fresh task asked again (and would caption the tap)
    await service.close()
