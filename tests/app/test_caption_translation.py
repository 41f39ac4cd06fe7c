"""Captions in each reader's language, end to end: espeak-ng speech from real aiortc peers,
Whisper (whisper-base) on the server, translation, and the listener's socket.

German speech reaches an English reader through a (test-built, deterministic) Argos de->en pack,
so the translated text is exact; Spanish speech has no text model into English here, so Whisper
translates the speech itself and the final's next revision carries it.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import numpy as np
import pytest

from media.speech.models import install
from rooms import transcripts
from rooms.migrate import upgrade
from tests.app.test_captions import on_server
from tests.app.test_captions_rtc import Participant, SpeechTrack
from tests.app.test_rtc_signaling import services_of
from tests.conftest import app_settings, seed_staff, staff_browser
from tests.live import Browser, LiveServer
from tests.speech.conftest import (  # noqa: F401 - the session fixture `speak` is used here
    MODELS_DIR,
    Speak,
    silence,
    speak,
    words,
)
from tests.translation.packbuild import build_pack
from translation.packs import install_argos_file

GERMAN = "Guten Morgen, ich habe eine Frage."
DE_EN = {"Guten Morgen": "Good morning", "ich habe": "I have", "eine Frage": "a question"}
SPANISH = "Hoy quiero hablar de mi trabajo en el hospital de la ciudad."


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    install("whisper-base", MODELS_DIR)
    translation_dir = tmp_path_factory.mktemp("translation")
    pack = build_pack(tmp_path_factory.mktemp("packs"), "de", "en", DE_EN, splitter=False)
    install_argos_file(pack, translation_dir)
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('caption-tr') / 'counsel.db'}"
    upgrade(url)
    seed_staff(url)
    settings = app_settings(url, models_dir=MODELS_DIR, speech_model="whisper-base",
                            translation_dir=translation_dir, staff_language="en",
                            rtc_host_addresses=["127.0.0.1"], rtc_ice_timeout_s=15.0)
    live = LiveServer(settings).start()
    captions = services_of(live).captions
    assert on_server(live, captions.models(), timeout=120) is not None, captions.disabled_reason
    yield live
    live.stop()


@pytest.fixture
async def people(server: LiveServer) -> AsyncIterator[Callable[..., Participant]]:
    made: list[Participant] = []

    def make(room_id: str, token: str, track: SpeechTrack | None = None) -> Participant:
        client = Participant(server, room_id, token, track)
        made.append(client)
        return client

    yield make
    for client in made:
        await client.close()


def _room(live: LiveServer, language: str) -> tuple[str, str, str]:
    """An auto-admit room: the counselor's token (reads English) and a worker's who speaks
    `language` and agreed to be transcribed."""
    counselor = staff_browser(live)
    room_id = counselor.create_room(title=f"Translated {uuid.uuid4().hex[:6]}",
                                    languages=("en", language), auto_admit=True)
    host_token = counselor.enter(room_id).token
    link, code = counselor.invite(room_id, "worker", label="Speaker")
    worker = Browser(live.url)
    worker.join(link, code, name="Speaker", language=language, transcription="yes")
    return room_id, host_token, worker.room(room_id).token


async def _speak(live: LiveServer, make: Callable[..., Participant], speak: Speak,  # noqa: F811
                 text: str, language: str) -> tuple[str, Participant, Participant]:
    """A worker speaking `language` says `text` through a real peer: (room id, the
    counselor's socket, the worker)."""
    room_id, host_token, token = await asyncio.to_thread(_room, live, language)
    listener = make(room_id, host_token)
    await listener.open()
    speaker = make(room_id, token, SpeechTrack(np.concatenate(
        [silence(0.8), speak(text, language, 0, 0)])))
    assert (await speaker.open())["admission"] == "admitted"
    await speaker.connect_media()
    return room_id, listener, speaker


def _final(speaker_id: str) -> Callable[[dict[str, Any]], bool]:
    return lambda m: m["type"] == "caption" and m["speaker_id"] == speaker_id and m["final"]


async def test_german_speech_reaches_an_english_reader_through_the_argos_pack(
    server: LiveServer, people: Callable[..., Participant], speak: Speak,  # noqa: F811
) -> None:
    _, listener, speaker = await _speak(server, people, speak, GERMAN, "de")
    final = await listener.until(_final(speaker.me), within=30)
    assert (final["lang"], final["text"]) == ("de", GERMAN)
    assert final["translations"] == {
        "en": {"text": "Good morning, I have a question.", "route": "direct"}}
    assert final["no_route"] == [] and final["pending"] == []
    # partials on the way were translated too (or left out while the engine was busy)
    partials = [c for c in listener.captions() if c["utterance_id"] == final["utterance_id"]
                and not c["final"]]
    assert all(set(c["translations"]) <= {"en"} for c in partials)


async def test_spanish_speech_reaches_an_english_reader_through_whisper(
    server: LiveServer, people: Callable[..., Participant], speak: Speak,  # noqa: F811
) -> None:
    room_id, listener, speaker = await _speak(server, people, speak, SPANISH, "es")
    final = await listener.until(_final(speaker.me), within=30)
    assert {"trabajo", "hospital"} <= set(words(final["text"]))
    assert final["translations"] == {} and final["pending"] == ["en"]
    update = await listener.until(
        lambda m: _final(speaker.me)(m) and m["utterance_id"] == final["utterance_id"]
        and m["rev"] > final["rev"], within=30)
    english = update["translations"]["en"]
    assert english["route"] == "whisper" and update["pending"] == []
    assert {"today", "work", "hospital"} <= set(words(english["text"]))
    assert update["text"] == final["text"]  # the original stays beside it

    # the transcript keeps the final with its translation
    services = services_of(server)

    async def stored() -> dict[str | None, dict[str, dict[str, str]]]:
        async with services.sessions() as session:
            entries = await transcripts.list_entries(session, room_id)
        return {e.utterance_id: e.translations for e in entries}

    entries = on_server(server, stored())
    assert entries[final["utterance_id"]]["en"] == english
