"""Live captions end to end: espeak-ng speech sent by real aiortc peers through a live room.

Each speaker is a real aiortc client peer that signals over the room WebSocket and sends an
Opus track paced in real time from an espeak-ng clip (then keeps sending silence, as an open
microphone does). On the server the media router decodes the speaker's audio into its tap, the
caption service runs Whisper on it and every admitted socket receives `caption` messages: a
listener's socket must see partial captions, then a final one with the words that were spoken.
One live server per model (tiny.en, then whisper-base), shared by the tests of that model.
"""

from __future__ import annotations

import asyncio
import fractions
import itertools
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable, Collection, Iterator
from typing import Any

import av
import numpy as np
import pytest
from aiortc import RTCBundlePolicy, RTCConfiguration, RTCPeerConnection
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from media.speech.models import install
from rooms.migrate import upgrade
from tests.app.test_captions import on_server
from tests.app.test_rtc_signaling import RtcClient, eventually, services_of
from tests.conftest import app_settings, seed_staff, staff_browser
from tests.live import Browser, LiveServer
from tests.speech.conftest import (  # noqa: F401 - the session fixture `speak` is used here
    MODELS_DIR,
    Speak,
    Speech,
    silence,
    speak,
    words,
)

RATE = 16_000
FRAME = 320  # 20 ms
ENGLISH = "Please open the window before the meeting starts."
ENGLISH_BASE = "My brother works at the hospital in the city center."
SPANISH = "Hoy quiero hablar de mi trabajo en el hospital de la ciudad."


class SpeechTrack(MediaStreamTrack):
    """An open microphone: `audio` paced in real time in 20-ms frames, then silence forever."""

    kind = "audio"

    def __init__(self, audio: Speech) -> None:
        super().__init__()
        self._audio = audio
        self._sent = 0
        self._start: float | None = None
        self.finished_at: float | None = None
        """When the frame holding the clip's last sample was handed to the encoder."""

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
        await asyncio.sleep(max(self._start + self._sent * FRAME / RATE - time.monotonic(), 0))
        offset = self._sent * FRAME
        chunk = np.zeros(FRAME, np.int16)
        clip = self._audio[offset:offset + FRAME]
        chunk[:clip.size] = clip
        frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = RATE
        frame.pts = offset
        frame.time_base = fractions.Fraction(1, RATE)
        self._sent += 1
        if self.finished_at is None and offset + FRAME >= self._audio.size:
            self.finished_at = time.monotonic()
        return frame


class Participant(RtcClient):
    """`RtcClient` (signaling over the room socket, consuming what it receives) whose only
    media is an optional speech track: a speaker, or with no track a listener's socket."""

    def __init__(self, live: LiveServer, room_id: str, token: str,
                 track: SpeechTrack | None = None) -> None:
        # RtcClient's own __init__ adds a looping test video and speech file; everything else
        # of it (signaling, renegotiation, consuming the tracks it receives) is used as is
        self.url = f"{live.url.replace('http', 'ws')}/ws/rooms/{room_id}?token={token}"
        self.pc = RTCPeerConnection(
            RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))
        self.players = []
        self.track = track
        if track is not None:
            self.pc.addTransceiver(track, direction="sendrecv")
        self.pc.on("track", self._on_track)
        self.routes: dict[str, dict[str, Any]] = {}
        self.offers: list[dict[str, Any]] = []
        self.received = {}
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.pending: list[dict[str, Any]] = []
        self.ws = None
        self.me = ""
        self._tasks: set[asyncio.Task[None]] = set()

    async def connect_media(self) -> None:
        """The first offer, its answer, and the server's peer connected."""
        await self.expect("rtc.config")
        await self.offer()
        await self.expect("rtc.answer")
        await self.expect("rtc.state", within=15, participant_id=self.me, state="connected")

    async def restart(self, track: SpeechTrack) -> None:
        """What a page does after a network change: a new peer connection, offered with
        `restart`, in place of the old one (closed once the new offer is sent)."""
        old, old_track = self.pc, self.track
        self.pc = RTCPeerConnection(
            RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))
        self.pc.on("track", self._on_track)
        self.track = track
        self.pc.addTransceiver(track, direction="sendrecv")
        await self.pc.setLocalDescription(await self.pc.createOffer())
        await self.send({"type": "rtc.offer", "sdp": self.pc.localDescription.sdp,
                         "restart": True})
        if old_track is not None:
            old_track.stop()
        await old.close()

    def captions(self) -> list[dict[str, Any]]:
        """Caption messages seen so far (taken or not)."""
        return [m for m in self.pending if m["type"] == "caption"]

    async def close(self) -> None:
        if self.track is not None:
            self.track.stop()
        await super().close()


@pytest.fixture(scope="module")
def caption_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                   ) -> Iterator[LiveServer]:
    """A live server whose peers use loopback, with the model `request.param` installed and
    loaded (default engine settings otherwise: faster-whisper int8, the default beam size)."""
    model = str(request.param)
    install(model, MODELS_DIR)
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('captions-rtc') / 'counsel.db'}"
    upgrade(url)
    seed_staff(url)
    settings = app_settings(url, models_dir=MODELS_DIR, speech_model=model,
                            rtc_host_addresses=["127.0.0.1"], rtc_ice_timeout_s=15.0)
    server = LiveServer(settings).start()
    captions = services_of(server).captions
    assert on_server(server, captions.models(), timeout=120) is not None, captions.disabled_reason
    yield server
    server.stop()


@pytest.fixture
async def participants(caption_server: LiveServer
                       ) -> AsyncIterator[Callable[..., Participant]]:
    made: list[Participant] = []

    def make(room_id: str, token: str, track: SpeechTrack | None = None) -> Participant:
        client = Participant(caption_server, room_id, token, track)
        made.append(client)
        return client

    yield make
    for client in made:
        await client.close()


def _guest_token(live: LiveServer, counselor: Browser, room_id: str, name: str, language: str,
                 transcription: str) -> str:
    link, code = counselor.invite(room_id, "worker", label=name)
    guest = Browser(live.url)
    page = guest.join(link, code, name=name, language=language, transcription=transcription)
    assert page.status_code == 200
    return guest.room(room_id).token


def _room(live: LiveServer, guests: list[tuple[str, str, str]]) -> tuple[Browser, str, str,
                                                                          list[str]]:
    """An open auto-admit room: the counselor (host) and the guests' room tokens."""
    counselor = staff_browser(live)
    room_id = counselor.create_room(title=f"Captions {uuid.uuid4().hex[:6]}",
                                    languages=("en", "es"), auto_admit=True)
    host_token = counselor.enter(room_id).token
    tokens = [_guest_token(live, counselor, room_id, *guest) for guest in guests]
    return counselor, room_id, host_token, tokens


async def _speaker(live: LiveServer, make: Callable[..., Participant], room_id: str, token: str,
                   audio: Speech) -> Participant:
    speaker = make(room_id, token, SpeechTrack(audio))
    assert (await speaker.open())["admission"] == "admitted"
    await speaker.connect_media()
    return speaker


async def _partial_then_final(listener: Participant, speaker_id: str) -> tuple[
        dict[str, Any], dict[str, Any]]:
    partial = await listener.expect("caption", within=30, speaker_id=speaker_id)
    assert partial["final"] is False
    final = await listener.expect("caption", within=30, speaker_id=speaker_id, final=True)
    assert partial["utterance_id"] == final["utterance_id"] and partial["rev"] < final["rev"]
    assert 0 < final["t_start"] < final["t_end"]
    return partial, final


async def _speech_round(live: LiveServer, make: Callable[..., Participant], speak: Speak,  # noqa: F811
                        text: str, voice: str, language: str) -> dict[str, Any]:
    """One consenting speaker says `text` through a real peer; the host's socket listens."""
    _, room_id, host_token, (token,) = await asyncio.to_thread(
        _room, live, [("Alice Speaker", language, "yes")])
    listener = make(room_id, host_token)
    await listener.open()
    audio = np.concatenate([silence(0.8), speak(text, voice, 0, 0)])
    speaker = await _speaker(live, make, room_id, token, audio)
    _, final = await _partial_then_final(listener, speaker.me)
    assert final["speaker_name"] == "Alice Speaker" and final["lang"] == language
    return final


@pytest.mark.parametrize("caption_server", ["tiny.en"], indirect=True)
async def test_english_speech_from_a_peer_gets_captions_with_tiny_en(
    caption_server: LiveServer, participants: Callable[..., Participant],
    speak: Speak,  # noqa: F811
) -> None:
    final = await _speech_round(caption_server, participants, speak, ENGLISH, "en-us", "en")
    assert {"open", "window", "meeting"} <= set(words(final["text"]))


@pytest.mark.parametrize("caption_server", ["tiny.en"], indirect=True)
async def test_a_speaker_who_declined_gets_no_captions_while_another_one_does(
    caption_server: LiveServer, participants: Callable[..., Participant],
    speak: Speak,  # noqa: F811
) -> None:
    counselor, room_id, host_token, (yes_token, no_token) = await asyncio.to_thread(
        _room, caption_server, [("Alice Speaker", "en", "yes"), ("Bob Declined", "en", "no")])
    listener = participants(room_id, host_token)
    await listener.open()
    speech = np.concatenate([silence(0.8), speak(ENGLISH, "en-us", 0, 0)])
    declined = await _speaker(caption_server, participants, room_id, no_token, speech)
    consenting = await _speaker(caption_server, participants, room_id, yes_token, speech)

    # the consenting speaker's words come through while the declined one speaks the same
    _, final = await _partial_then_final(listener, consenting.me)
    assert {"window", "meeting"} <= set(words(final["text"]))
    track = declined.track
    assert track is not None
    await eventually(lambda: track.finished_at is not None, within=15)
    await asyncio.sleep(1.5)  # longer than the end-of-speech silence plus a recognition
    await listener.send({"type": "ping", "nonce": "after"})
    await listener.expect("pong", nonce="after")
    assert [c for c in listener.captions() if c["speaker_id"] == declined.me] == []

    # the router decoded the declined speaker's audio for nobody: their tap was never read
    services = services_of(caption_server)
    taps = services.media._routers[room_id].audio_taps()
    assert taps[declined.me] and not any(tap.listening for tap in taps[declined.me])
    assert all(tap.listening for tap in taps[consenting.me])
    assert (room_id, declined.me) not in services.captions.active
    page = await asyncio.to_thread(counselor.http.get, f"/staff/rooms/{room_id}/transcript")
    assert "Alice Speaker" in page.text and "Bob Declined" not in page.text


@pytest.mark.parametrize("caption_server", ["whisper-base"], indirect=True)
async def test_english_speech_from_a_peer_gets_captions_with_whisper_base(
    caption_server: LiveServer, participants: Callable[..., Participant],
    speak: Speak,  # noqa: F811
) -> None:
    final = await _speech_round(caption_server, participants, speak, ENGLISH_BASE, "en-gb", "en")
    assert {"brother", "hospital", "city"} <= set(words(final["text"]))


@pytest.mark.parametrize("caption_server", ["whisper-base"], indirect=True)
async def test_spanish_speech_from_a_peer_gets_spanish_captions_with_whisper_base(
    caption_server: LiveServer, participants: Callable[..., Participant],
    speak: Speak,  # noqa: F811
) -> None:
    final = await _speech_round(caption_server, participants, speak, SPANISH, "es", "es")
    assert {"trabajo", "hospital"} <= set(words(final["text"]))


def _caption(speaker_id: str, *, final: bool, heard: str, not_of: Collection[str] = ()
             ) -> Callable[[dict[str, Any]], bool]:
    """A caption of the speaker (a final or a partial) that holds the word `heard`, of an
    utterance not in `not_of`."""
    return lambda m: (m["type"] == "caption" and m["speaker_id"] == speaker_id
                      and m["final"] is final and heard in words(m["text"])
                      and m["utterance_id"] not in not_of)


@pytest.mark.parametrize("caption_server", ["tiny.en"], indirect=True)
async def test_a_peer_restart_or_a_reconnect_mid_sentence_loses_no_caption(
    caption_server: LiveServer, participants: Callable[..., Participant],
    speak: Speak,  # noqa: F811
) -> None:
    """The page replaces its peer mid-sentence (`rtc.offer` with `restart`), later its socket
    drops mid-sentence and it comes back: each cut sentence gets its final from what was
    heard and reaches the transcript; what follows has new utterance ids, later on the
    session's clock."""
    counselor, room_id, host_token, (token,) = await asyncio.to_thread(
        _room, caption_server, [("Gina Moves", "en", "yes")])
    listener = participants(room_id, host_token)
    await listener.open()
    english, other = speak(ENGLISH, "en-us", 0, 0), speak(ENGLISH_BASE, "en-us", 0, 0)
    speaker = await _speaker(caption_server, participants, room_id, token,
                             np.concatenate([silence(0.8), english, english]))
    me = speaker.me

    # 1. a new peer connection mid-sentence
    partial = await listener.until(_caption(me, final=False, heard="open"), within=30)
    await speaker.restart(SpeechTrack(np.concatenate(
        [silence(0.8), other, silence(1.5), english, english])))
    cut = await listener.expect("caption", within=30, speaker_id=me, final=True,
                                utterance_id=partial["utterance_id"])
    assert "open" in words(cut["text"])
    services = services_of(caption_server)
    await eventually(lambda: len(services.media._routers[room_id].audio_taps()[me]) == 1, 5)
    after_restart = await listener.until(_caption(me, final=True, heard="hospital"), within=30)
    assert cut["t_end"] < after_restart["t_start"]

    # 2. the socket drops mid-sentence; the page reconnects with a new peer
    seen = {cut["utterance_id"], after_restart["utterance_id"]}
    partial = await listener.until(_caption(me, final=False, heard="open", not_of=seen),
                                   within=30)
    await speaker.close()
    cut_again = await listener.expect("caption", within=30, speaker_id=me, final=True,
                                      utterance_id=partial["utterance_id"])
    assert "open" in words(cut_again["text"])
    back = await _speaker(caption_server, participants, room_id, token,
                          np.concatenate([silence(0.8), other]))
    assert back.me == me
    after_reconnect = await listener.until(_caption(me, final=True, heard="hospital",
                                                    not_of=seen), within=30)
    finals = [cut, after_restart, cut_again, after_reconnect]
    assert len({f["utterance_id"] for f in finals}) == 4
    assert all(a["t_end"] < b["t_start"] for a, b in itertools.pairwise(finals))

    # the transcript holds every final (each stored just after it is sent), in spoken order
    async def transcript() -> list[str]:
        page = await asyncio.to_thread(counselor.http.get, f"/staff/rooms/{room_id}/transcript")
        return re.findall(r'data-utterance-id="(\w+)"', page.text)

    async with asyncio.timeout(10):
        while len(stored := await transcript()) < len(finals):  # noqa: ASYNC110 - stored by the server
            await asyncio.sleep(0.1)
    assert stored == [f["utterance_id"] for f in finals]


def _consent_of(message: dict[str, Any], participant_id: str) -> bool | None:
    people = {p["id"]: p for p in message["participants"]}
    consent: bool | None = people[participant_id]["transcription_consent"]
    return consent


@pytest.mark.parametrize("caption_server", ["tiny.en"], indirect=True)
async def test_consent_given_in_the_room_starts_captions_and_withdrawing_it_stops_them(
    caption_server: LiveServer, participants: Callable[..., Participant],
    speak: Speak,  # noqa: F811
) -> None:
    counselor, room_id, host_token, (token,) = await asyncio.to_thread(
        _room, caption_server, [("Carol Later", "en", "no")])
    listener = participants(room_id, host_token)
    await listener.open()
    # declined on the join page; agrees in the room before speaking, withdraws after a sentence
    speech = speak(ENGLISH, "en-us", 0, 0)
    audio = np.concatenate([silence(2.0), speech, silence(3.0), speech])
    speaker = await _speaker(caption_server, participants, room_id, token, audio)
    services = services_of(caption_server)
    assert (room_id, speaker.me) not in services.captions.active

    await speaker.send({"type": "consent.set", "transcription": True})
    await listener.until(lambda m: m["type"] == "presence"
                         and _consent_of(m, speaker.me) is True)
    _, final = await _partial_then_final(listener, speaker.me)
    assert {"window", "meeting"} <= set(words(final["text"]))

    listener.pending = [m for m in listener.pending if m["type"] != "presence"]  # older ones
    await speaker.send({"type": "consent.set", "transcription": False})
    await listener.until(lambda m: m["type"] == "presence"
                         and _consent_of(m, speaker.me) is False)
    shown = len([c for c in listener.captions() if c["speaker_id"] == speaker.me])
    assert (room_id, speaker.me) not in services.captions.active
    track = speaker.track
    assert track is not None
    await eventually(lambda: track.finished_at is not None, within=20)
    await asyncio.sleep(1.5)  # longer than the end-of-speech silence plus a recognition
    await listener.send({"type": "ping", "nonce": "after"})
    await listener.expect("pong", nonce="after")
    # the second sentence was never captioned, and the router stopped decoding their audio
    assert len([c for c in listener.captions() if c["speaker_id"] == speaker.me]) == shown
    taps = services.media._routers[room_id].audio_taps()
    assert taps[speaker.me] and not any(tap.listening for tap in taps[speaker.me])
    page = await asyncio.to_thread(counselor.http.get, f"/staff/rooms/{room_id}/transcript")
    assert page.text.count("Carol Later") >= 1 and "meeting" in page.text.lower()
