"""Live captions through the real server: Whisper tiny.en on espeak-ng speech, fed as the media
router's audio tap of a speaker, reach a listener's socket as partial then final `caption`
messages and the room's transcript; a speaker who declined is never transcribed."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pytest

from media.rtc import AudioTap, AudioTapOpened, PcmFrame
from media.speech.models import install
from rooms.migrate import upgrade
from server.captions import CaptionService
from server.services import Services
from tests.conftest import app_settings, seed_staff, staff_browser
from tests.live import Browser, LiveServer, Socket
from tests.speech.conftest import (  # noqa: F401 - session fixtures used here
    MODELS_DIR,
    Speak,
    Speech,
    silence,
    speak,
    words,
)

T = TypeVar("T")
SENTENCE = "Please open the window before the meeting starts."
FRAME = 320  # 20 ms at 16 kHz


@pytest.fixture(scope="module")
def caption_live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A live server whose settings load tiny.en from var/test-models (installed here)."""
    install("tiny.en", MODELS_DIR)
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('captions') / 'counsel.db'}"
    upgrade(url)
    seed_staff(url)
    settings = app_settings(url, models_dir=MODELS_DIR, speech_model="tiny.en",
                            speech_beam_size=1)
    server = LiveServer(settings).start()
    yield server
    server.stop()


def services_of(live: LiveServer) -> Services:
    services: Services = live.server.config.app.state.services
    return services


def on_server(live: LiveServer, coro: Coroutine[Any, Any, T], timeout: float = 30) -> T:
    assert live.loop is not None
    return asyncio.run_coroutine_threadsafe(coro, live.loop).result(timeout)


def guest(live: LiveServer, host: Browser, host_socket: Socket, room_id: str, name: str,
          transcription: str) -> str:
    link, code = host.invite(room_id, "worker")
    browser = Browser(live.url)
    browser.join(link, code, name=name, language="en", transcription=transcription)
    socket = Socket(live.url, room_id, browser.room(room_id).token)
    pid = str(socket.expect("welcome")["you"]["id"])
    host_socket.send({"type": "lobby.admit", "participant_id": pid})
    socket.expect("lobby.admitted", participant_id=pid)
    return pid


async def speak_into_tap(tap: AudioTap, audio: Speech, speed: float = 2.0) -> None:
    """Push the audio into the tap as 20-ms PcmFrames, paced at `speed` times real time."""
    start = time.monotonic()
    for index in range(0, audio.size, FRAME):
        tap.push(PcmFrame(tap.speaker_id, audio[index:index + FRAME].tobytes(), index))
        await asyncio.sleep(max(start + (index + FRAME) / 16000 / speed - time.monotonic(), 0))
    tap.close()


async def open_tap(services: Services, room_id: str, pid: str, audio: Speech | None) -> AudioTap:
    """What the media router does when a speaker's audio arrives: announce the tap."""
    tap = AudioTap(pid, maxlen=1000)
    services.media._on_event(room_id, AudioTapOpened(pid, tap))  # the router's event
    if audio is not None:
        asyncio.get_running_loop().create_task(speak_into_tap(tap, audio))
    return tap


async def wait_idle(captions: CaptionService, within_s: float = 20) -> None:
    deadline = time.monotonic() + within_s
    while captions.active:
        assert time.monotonic() < deadline, "the caption task did not end"
        await asyncio.sleep(0.05)


@pytest.fixture
def room(caption_live: LiveServer) -> tuple[Browser, Socket, str]:
    host = staff_browser(caption_live, "counselor")
    room_id = host.create_room(title=f"Captions {uuid.uuid4().hex[:4]}")
    host_socket = Socket(caption_live.url, room_id, host.enter(room_id).token)
    host_socket.expect("welcome")
    return host, host_socket, room_id


def test_consenting_speaker_gets_partial_then_final_captions_and_a_transcript(
    caption_live: LiveServer, room: tuple[Browser, Socket, str], speak: Speak  # noqa: F811
) -> None:
    host, listener, room_id = room
    assert listener.seen[0]["type"] == "welcome" and listener.seen[0]["captions_available"]
    pid = guest(caption_live, host, listener, room_id, "Alice Speaker", transcription="yes")
    services = services_of(caption_live)
    assert services.captions.enabled
    audio = np.concatenate([silence(0.4), speak(SENTENCE, "en-us", 0, 0), silence(1.0)])

    on_server(caption_live, open_tap(services, room_id, pid, audio))

    first = listener.expect("caption", timeout=20, speaker_id=pid)
    assert first["final"] is False and first["speaker_name"] == "Alice Speaker"
    final = listener.expect("caption", timeout=20, speaker_id=pid, final=True)
    assert {"open", "window", "meeting"} <= set(words(final["text"]))
    assert final["lang"] == "en" and 0 < final["t_start"] < final["t_end"]
    captions = [m for m in listener.seen if m["type"] == "caption"]
    assert [m["seq"] for m in captions] == sorted(m["seq"] for m in captions)
    on_server(caption_live, wait_idle(services.captions))

    page = host.http.get(f"/staff/rooms/{room_id}/transcript")
    assert page.status_code == 200
    assert "Alice Speaker" in page.text and final["text"] in page.text
    assert page.text.count('class="transcript-entry"') == 1
    assert f'href="/staff/rooms/{room_id}/transcript"' in host.http.get(
        f"/staff/rooms/{room_id}").text


def test_declined_speaker_is_not_transcribed_and_their_tap_not_read(
    caption_live: LiveServer, room: tuple[Browser, Socket, str], speak: Speak  # noqa: F811
) -> None:
    host, listener, room_id = room
    pid = guest(caption_live, host, listener, room_id, "Bob Declined", transcription="no")
    services = services_of(caption_live)
    audio = np.concatenate([silence(0.4), speak(SENTENCE, "en-us", 0, 0), silence(1.0)])

    async def declined() -> tuple[bool, int]:
        tap = await open_tap(services, room_id, pid, None)
        sent = await services.captions.transcribe(room_id, pid, tap)
        await wait_idle(services.captions)
        await speak_into_tap(tap, audio, speed=20)
        return tap.listening, sent

    listening, sent = on_server(caption_live, declined())
    assert (listening, sent) == (False, 0)
    listener.send({"type": "ping", "nonce": "after"})
    listener.expect("pong", nonce="after")
    assert not [m for m in listener.seen if m["type"] == "caption"]
    page = host.http.get(f"/staff/rooms/{room_id}/transcript")
    assert "Bob Declined" not in page.text and "Nothing has been transcribed" in page.text


def test_ending_the_room_stops_its_caption_tasks(
    caption_live: LiveServer, room: tuple[Browser, Socket, str], speak: Speak  # noqa: F811
) -> None:
    host, listener, room_id = room
    pid = guest(caption_live, host, listener, room_id, "Carol Long", transcription="yes")
    services = services_of(caption_live)

    async def start() -> AudioTap:
        tap = await open_tap(services, room_id, pid, None)
        tap.push(PcmFrame(pid, speak(SENTENCE, "en-us").tobytes(), 0))
        await asyncio.sleep(0.2)
        return tap

    tap = on_server(caption_live, start())
    assert (room_id, pid) in services.captions.active and tap.listening
    host.post_form(f"/staff/rooms/{room_id}/end", {}, f"/staff/rooms/{room_id}")
    on_server(caption_live, wait_idle(services.captions, within_s=5))
    assert services.captions.active == ()


def test_a_model_that_is_not_installed_turns_captions_off(tmp_path: Path) -> None:
    settings = app_settings("sqlite+aiosqlite://", models_dir=tmp_path, speech_model="tiny.en")
    service = CaptionService(settings, None, None)  # type: ignore[arg-type]
    assert asyncio.run(service.models()) is None
    assert not service.enabled and "counsel-room models install tiny.en" in str(
        service.disabled_reason)


def test_a_server_without_the_model_tells_each_page_that_captions_are_unavailable(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'counsel.db'}"
    upgrade(url)
    seed_staff(url)
    settings = app_settings(url, models_dir=tmp_path / "no-models", speech_model="tiny.en")
    server = LiveServer(settings).start()
    try:
        host = staff_browser(server, "counselor")
        room_id = host.create_room()
        socket = Socket(server.url, room_id, host.enter(room_id).token)
        welcome = socket.expect("welcome")
        assert welcome["captions_available"] is False
        assert "counsel-room models install tiny.en" in str(
            services_of(server).captions.disabled_reason)
    finally:
        server.stop()
