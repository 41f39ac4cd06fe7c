"""Live captions through the real server: Whisper tiny.en on espeak-ng speech, fed as the media
router's audio tap of a speaker, reach a listener's socket as partial then final `caption`
messages and the room's transcript; a speaker who declined is never transcribed. Each caption
names its utterance; a tap that ends mid-sentence still gives that sentence its final, consent
withdrawn mid-sentence abandons it, and speech said while the model loads is not lost."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pytest

from media.rtc import AudioTap, AudioTapOpened, PcmFrame
from media.speech.models import install
from rooms.migrate import upgrade
from rooms.models import Room
from server.captions import CaptionService
from server.services import Services
from server.settings import Settings
from server.speech_backend import SpeechModels, open_speech
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
OTHER = "My brother works at the hospital in the city center."
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
    return guest_socket(live, host, host_socket, room_id, name, transcription)[1]


def guest_socket(live: LiveServer, host: Browser, host_socket: Socket, room_id: str, name: str,
                 transcription: str) -> tuple[Socket, str]:
    """An admitted guest's socket and participant id."""
    link, code = host.invite(room_id, "worker")
    browser = Browser(live.url)
    browser.join(link, code, name=name, language="en", transcription=transcription)
    socket = Socket(live.url, room_id, browser.room(room_id).token)
    pid = str(socket.expect("welcome")["you"]["id"])
    host_socket.send({"type": "lobby.admit", "participant_id": pid})
    socket.expect("lobby.admitted", participant_id=pid)
    return socket, pid


async def speak_into_tap(tap: AudioTap, audio: Speech, speed: float = 2.0, *,
                         like_router: bool = False, close: bool = True,
                         pushed: Callable[[float], None] | None = None) -> None:
    """Push the audio into the tap as 20-ms PcmFrames, paced at `speed` times real time.
    `like_router`: only while someone reads the tap (the router decodes nothing for an unread
    tap, so what is said then is lost); `pushed` hears the seconds of audio gone by."""
    start = time.monotonic()
    for index in range(0, audio.size, FRAME):
        if tap.listening or not like_router:
            tap.push(PcmFrame(tap.speaker_id, audio[index:index + FRAME].tobytes(), index))
        if pushed is not None:
            pushed((index + FRAME) / 16000)
        await asyncio.sleep(max(start + (index + FRAME) / 16000 / speed - time.monotonic(), 0))
    if close:
        tap.close()


async def open_tap(services: Services, room_id: str, pid: str, audio: Speech | None,
                   speed: float = 2.0, **speaking: Any) -> AudioTap:
    """What the media router does when a speaker's audio arrives: announce the tap."""
    tap = AudioTap(pid, maxlen=1000)
    services.media._on_event(room_id, AudioTapOpened(pid, tap))  # the router's event
    if audio is not None:
        asyncio.get_running_loop().create_task(speak_into_tap(tap, audio, speed, **speaking))
    return tap


def captions_of(socket: Socket, utterance_id: str) -> list[dict[str, Any]]:
    return [m for m in socket.seen if m["type"] == "caption" and m["utterance_id"] == utterance_id]


def session_clock(live: LiveServer, room_id: str) -> float:
    """Seconds since the room opened (now, on the session's clock)."""
    async def opened_at() -> float:
        async with services_of(live).sessions() as session:
            room = await session.get(Room, room_id)
        assert room is not None and room.opened_at is not None
        return room.opened_at.timestamp()

    return time.time() - on_server(live, opened_at())


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
    assert final["lang"] == "en" and not final["abandoned"] and final["translations"] == {}
    # one utterance: the same id from the first partial to the final, revisions growing
    revisions = captions_of(listener, final["utterance_id"])
    assert revisions[0] is first and revisions[-1] is final
    assert [m["rev"] for m in revisions] == list(range(1, len(revisions) + 1))
    # times on the session's clock: after the room opened, before now (the audio is played
    # at twice real time: its end lies later than when it was heard)
    assert 0 < final["t_start"] < session_clock(caption_live, room_id)
    assert final["t_start"] < final["t_end"]
    on_server(caption_live, wait_idle(services.captions))

    page = host.http.get(f"/staff/rooms/{room_id}/transcript")
    assert page.status_code == 200
    assert "Alice Speaker" in page.text and final["text"] in page.text
    assert page.text.count('class="transcript-entry"') == 1
    assert f'data-utterance-id="{final["utterance_id"]}"' in page.text
    assert f'href="/staff/rooms/{room_id}/transcript"' in host.http.get(
        f"/staff/rooms/{room_id}").text


def test_a_tap_that_ends_mid_sentence_gives_it_a_final_and_the_next_tap_captions_anew(
    caption_live: LiveServer, room: tuple[Browser, Socket, str], speak: Speak  # noqa: F811
) -> None:
    """What the router does when the page replaces its peer (`rtc.offer` with `restart`) or
    its socket reconnects: the old peer's tap ends mid-sentence and the new peer's tap opens
    at once. The cut sentence is finalised from what was heard and stored; the new tap's
    captions are new utterances, later on the session's clock."""
    host, listener, room_id = room
    pid = guest(caption_live, host, listener, room_id, "Dana Restart", transcription="yes")
    services = services_of(caption_live)
    sentence = speak(SENTENCE, "en-us", 0, 0)
    cut = np.concatenate([silence(0.4), sentence[: int(sentence.size * 0.7)]])
    again = np.concatenate([silence(0.4), speak(OTHER, "en-us", 0, 0), silence(1.0)])

    async def replace_the_peer_mid_sentence() -> tuple[AudioTap, AudioTap]:
        old = await open_tap(services, room_id, pid, None)
        await speak_into_tap(old, cut, 1.0, like_router=True, close=False)
        old.close()  # the replaced peer's tap ends ...
        new = await open_tap(services, room_id, pid, again, 1.0, like_router=True)  # ... a new one
        return old, new

    on_server(caption_live, replace_the_peer_mid_sentence())
    heard = listener.expect("caption", timeout=30, speaker_id=pid, final=True)
    assert {"open", "window"} <= set(words(heard["text"]))
    assert all(not m["final"] for m in captions_of(listener, heard["utterance_id"])[:-1])
    later = listener.expect("caption", timeout=30, speaker_id=pid, final=True)
    # tiny.en hears the sentence's start variously when a tap begins mid-stream ("My brother
    # works", "My drummer works", "worked"): its end decides
    assert {"hospital", "city"} <= set(words(later["text"])), later["text"]
    assert later["utterance_id"] != heard["utterance_id"]
    assert heard["t_end"] < later["t_start"] < later["t_end"]
    on_server(caption_live, wait_idle(services.captions))

    page = host.http.get(f"/staff/rooms/{room_id}/transcript").text
    assert page.count('class="transcript-entry"') == 2
    assert page.index(heard["text"]) < page.index(later["text"])


def test_consent_withdrawn_mid_sentence_abandons_it_and_consent_again_captions_anew(
    caption_live: LiveServer, room: tuple[Browser, Socket, str], speak: Speak  # noqa: F811
) -> None:
    host, listener, room_id = room
    speaker, pid = guest_socket(caption_live, host, listener, room_id, "Eve Toggle", "yes")
    services = services_of(caption_live)
    long = speak(f"{SENTENCE} {OTHER} {SENTENCE}", "en-us", 0, 0)
    audio = np.concatenate([silence(0.4), long, silence(2.0), speak(OTHER, "en-us", 0, 0),
                            silence(1.0)])
    on_server(caption_live, open_tap(services, room_id, pid, audio, 1.0, like_router=True))

    partial = listener.expect("caption", timeout=30, speaker_id=pid)
    speaker.send({"type": "consent.set", "transcription": False})
    abandoned = listener.expect("caption", timeout=10, speaker_id=pid, abandoned=True)
    assert abandoned["utterance_id"] == partial["utterance_id"]
    assert abandoned["rev"] > partial["rev"] and abandoned["final"] is False
    assert (room_id, pid) not in services.captions.active

    speaker.send({"type": "consent.set", "transcription": True})
    final = listener.until(lambda m: m["type"] == "caption" and m["final"]
                           and "hospital" in words(m["text"]), timeout=40)
    assert final["utterance_id"] != abandoned["utterance_id"]
    assert final["t_start"] > abandoned["t_start"]
    # the abandoned sentence never got a final, and nothing of it is in the transcript
    assert not [m for m in captions_of(listener, abandoned["utterance_id"]) if m["final"]]
    on_server(caption_live, wait_idle(services.captions, within_s=30))
    page = host.http.get(f"/staff/rooms/{room_id}/transcript").text
    assert f'data-utterance-id="{final["utterance_id"]}"' in page
    assert f'data-utterance-id="{abandoned["utterance_id"]}"' not in page


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


def test_speech_said_while_the_model_loads_is_captioned_once_it_is_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, speak: Speak  # noqa: F811
) -> None:
    """The model starts loading with the server; pages hear "starting", then "ready"; a
    speaker who talks before it is there loses nothing (their tap is read from the start)."""
    install("tiny.en", MODELS_DIR)
    loaded = threading.Event()  # held until the speaker has said the first words

    async def slow_open_speech(settings: Settings, resources: AsyncExitStack) -> SpeechModels:
        await asyncio.to_thread(loaded.wait, 60)
        return await open_speech(settings, resources)

    monkeypatch.setattr("server.captions.open_speech", slow_open_speech)
    url = f"sqlite+aiosqlite:///{tmp_path / 'counsel.db'}"
    upgrade(url)
    seed_staff(url)
    settings = app_settings(url, models_dir=MODELS_DIR, speech_model="tiny.en",
                            speech_beam_size=1)
    server = LiveServer(settings).start()
    try:
        host = staff_browser(server, "counselor")
        room_id = host.create_room(title="Early words")
        listener = Socket(server.url, room_id, host.enter(room_id).token)
        welcome = listener.expect("welcome")
        assert (welcome["captions_state"], welcome["captions_available"]) == ("starting", True)
        pid = guest(server, host, listener, room_id, "Finn Early", transcription="yes")
        audio = np.concatenate([silence(0.4), speak(SENTENCE, "en-us", 0, 0), silence(1.0)])

        def load_after_the_first_words(spoken_s: float) -> None:
            if spoken_s >= 1.6:  # "Please open the..." has been said
                loaded.set()

        on_server(server, open_tap(services_of(server), room_id, pid, audio, 1.0,
                                   like_router=True, pushed=load_after_the_first_words))
        listener.expect("captions.status", timeout=30, state="ready")
        final = listener.expect("caption", timeout=30, speaker_id=pid, final=True)
        assert {"open", "window", "meeting"} <= set(words(final["text"]))
        assert final["t_start"] < session_clock(server, room_id) - 1.6
    finally:
        loaded.set()
        server.stop()


def test_an_english_only_model_does_not_caption_other_languages(
    caption_live: LiveServer, room: tuple[Browser, Socket, str], speak: Speak  # noqa: F811
) -> None:
    """tiny.en would turn Vietnamese into confident English nonsense: the page is told which
    languages are captioned, and the Vietnamese speaker's audio is not transcribed."""
    host, listener, room_id = room
    assert listener.seen[0]["captions_languages"] == ["en"]
    link, code = host.invite(room_id, "worker")
    browser = Browser(caption_live.url)
    browser.join(link, code, name="Tran Van Ba", language="vi", transcription="yes")
    socket = Socket(caption_live.url, room_id, browser.room(room_id).token)
    pid = str(socket.expect("welcome")["you"]["id"])
    listener.send({"type": "lobby.admit", "participant_id": pid})
    socket.expect("lobby.admitted", participant_id=pid)
    services = services_of(caption_live)
    assert not services.captions.can_caption("vi") and services.captions.can_caption("en")

    audio = np.concatenate([silence(0.4), speak(SENTENCE, "en-us", 0, 0), silence(1.0)])
    tap = on_server(caption_live, open_tap(services, room_id, pid, audio, speed=4.0))
    on_server(caption_live, wait_idle(services.captions))
    listener.send({"type": "ping", "nonce": "after"})
    listener.expect("pong", nonce="after")
    assert [m for m in listener.seen if m["type"] == "caption"] == []
    assert not tap.listening  # released: the router decodes nothing for nobody
