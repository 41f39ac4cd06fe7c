"""Video and voice between two real headless Chromiums through the server's media router.

Each browser is its own Chromium process with fake devices: a fake camera and, as microphone, a
speech WAV made by espeak-ng (Chromium loops it). The server gathers ICE candidates on loopback.
Each page must show the other's video playing (frames decoded, not black), and the server's audio
tap for the worker must hear the WAV: its 20 ms energy envelope correlates with the file's. The
worker's browser may play sound only after a gesture, so its page must offer "Enable sound";
removing the worker and ending the room must close the peers on both sides.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import threading
import time
import wave
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pytest
from playwright.sync_api import BrowserContext, Page, Playwright, expect, sync_playwright

from media.rtc import TAP_SAMPLE_RATE, AudioTap, RouterCounts
from rooms.migrate import upgrade
from server.services import Services
from tests.browser.test_room_flow import (
    ARGS,
    CHROMIUM,
    PHONE,
    WAIT,
    assert_fits_phone,
    close_panel,
    create_invitation,
    enter_room,
    open_panel,
    schedule_and_open,
    sign_in,
)
from tests.conftest import app_settings, seed_staff
from tests.live import LiveServer

pytestmark = pytest.mark.browser

SPEECH = ("Thank you for coming in today. Let us talk about your first week back at work, "
          "and what would help.")
WAV_SECONDS = 5.0
ENVELOPE_S = 0.02
TAP_SECONDS = 8.0
T = TypeVar("T")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('live') / 'counsel.db'}"
    upgrade(url)
    seed_staff(url)
    # no speech model here (tests/browser/test_captions_browser.py has captions)
    settings = app_settings(url, rtc_host_addresses=["127.0.0.1"],
                            models_dir=tmp_path_factory.mktemp("no-models"))
    server = LiveServer(settings).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def speech_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 5 s of espeak-ng speech, 16 kHz mono, padded with silence to exactly 5 s."""
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    root = tmp_path_factory.mktemp("wav")
    raw, wav = root / "raw.wav", root / "speech.wav"
    subprocess.run(["espeak-ng", "-s", "175", "-w", str(raw), SPEECH], check=True)
    subprocess.run(["sox", str(raw), "-r", str(TAP_SAMPLE_RATE), "-c", "1", "-b", "16", str(wav),
                    "pad", "0.3", str(WAV_SECONDS), "trim", "0", str(WAV_SECONDS)], check=True)
    return wav


@pytest.fixture(scope="module")
def playwright(live: LiveServer) -> Iterator[Playwright]:
    with sync_playwright() as p:  # after the live server: see test_room_flow.py
        yield p


class TapRecorder:
    """Subscribes to the server's audio taps and keeps every speaker's samples.

    The subscriber runs on the live server's event loop (its own thread): it starts a task there
    that iterates the tap, and hands samples over under a lock.
    """

    def __init__(self, services: Services) -> None:
        self._lock = threading.Lock()
        self._pcm: dict[str, list[bytes]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self.unsubscribe = services.media.on_audio_tap(self._opened)

    def _opened(self, room_id: str, participant_id: str, tap: AudioTap) -> None:
        self._loop = asyncio.get_running_loop()
        self._tasks.append(self._loop.create_task(self._consume(participant_id, tap)))

    async def _consume(self, speaker: str, tap: AudioTap) -> None:
        async for frame in tap:
            with self._lock:
                self._pcm.setdefault(speaker, []).append(frame.pcm)

    def samples(self, speaker: str) -> np.ndarray[Any, np.dtype[np.int16]]:
        with self._lock:
            return np.frombuffer(b"".join(self._pcm.get(speaker, [])), dtype="<i2")

    def seconds(self, speaker: str) -> float:
        return len(self.samples(speaker)) / TAP_SAMPLE_RATE

    def close(self) -> None:
        self.unsubscribe()
        if self._loop is not None and not self._loop.is_closed():
            for task in self._tasks:
                self._loop.call_soon_threadsafe(task.cancel)


def envelope(samples: np.ndarray[Any, Any]) -> np.ndarray[Any, np.dtype[np.float64]]:
    """RMS per 20 ms window."""
    size = int(TAP_SAMPLE_RATE * ENVELOPE_S)
    frames = samples[: len(samples) // size * size].astype(np.float64).reshape(-1, size)
    result: np.ndarray[Any, np.dtype[np.float64]] = np.sqrt((frames**2).mean(axis=1))
    return result


def looped_correlation(received: np.ndarray[Any, Any], wav: np.ndarray[Any, Any]) -> float:
    """Best Pearson correlation of the received envelope with the looped WAV's.

    Chromium loops the file from when the page opened the microphone, so the tap starts at an
    unknown point of the loop, and it plays a short gap between repetitions (one 10 ms buffer with
    Chromium 156: the received audio repeats every 5.010 s). Every start point (in 1/4-window
    steps) and every gap up to 40 ms is tried, and the reference is enveloped on the same 20 ms
    windows as the received audio: tiling the WAV's own envelope would drift by half a window
    per repetition.
    """
    got = envelope(received)
    size = int(TAP_SAMPLE_RATE * ENVELOPE_S)
    span = len(got) * size
    best = -1.0
    for gap_ms in range(0, 50, 10):
        loop = np.concatenate([wav, np.zeros(TAP_SAMPLE_RATE * gap_ms // 1000)])
        energy = np.tile(loop.astype(np.float64) ** 2, span // len(loop) + 2)
        cumulative = np.concatenate([[0.0], np.cumsum(energy)])
        starts = np.arange(0, len(loop), size // 4)[:, None] + np.arange(len(got) + 1) * size
        sums = np.diff(cumulative[starts], axis=1)  # one row of window energies per start
        refs = np.sqrt(sums / size)
        refs = refs - refs.mean(axis=1, keepdims=True)
        centred = got - got.mean()
        scores = refs @ centred / (np.linalg.norm(refs, axis=1) * np.linalg.norm(centred))
        best = max(best, float(scores.max()))
    return best


def open_browser(playwright: Playwright, live: LiveServer, profile: Path, wav: Path,
                 autoplay: str = "no-user-gesture-required",
                 ) -> tuple[BrowserContext, Page, list[str]]:
    """A Chromium with fake devices; `autoplay` is its autoplay policy (a Chromium switch)."""
    context = playwright.chromium.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, headless=True, base_url=live.url,
        viewport=PHONE, locale="en-US",
        args=[*ARGS, "--use-fake-ui-for-media-stream",
              "--use-fake-device-for-media-stream=device-count=3",
              f"--use-file-for-fake-audio-capture={wav}", "--allow-loopback-in-peer-connection",
              f"--autoplay-policy={autoplay}"])
    context.set_default_timeout(WAIT)
    problems: list[str] = []
    context.on("weberror", lambda error: problems.append(f"page error: {error.error}"))
    page = context.pages[0] if context.pages else context.new_page()
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    return context, page, problems


REMOTE_VIDEO = """(pid) => {
  const figure = [...document.querySelectorAll("#tiles figure.tile:not(.local):not([hidden])")]
    .find((f) => f.dataset.participantId === pid && !f.classList.contains("audio-only")
                 && !f.classList.contains("voice-only"));
  const video = figure && figure.querySelector("video");
  if (!video || !video.videoWidth) return null;
  const canvas = document.createElement("canvas");
  canvas.width = 64; canvas.height = 48;
  const g = canvas.getContext("2d");
  g.drawImage(video, 0, 0, 64, 48);
  const px = g.getImageData(0, 0, 64, 48).data;
  let luma = 0;
  for (let i = 0; i < px.length; i += 4) {
    luma += 0.299 * px[i] + 0.587 * px[i + 1] + 0.114 * px[i + 2];
  }
  const frames = video.getVideoPlaybackQuality().totalVideoFrames;
  return { width: video.videoWidth, frames, luma: luma / (px.length / 4), paused: video.paused };
}"""


REMOTE_SOUND = """(pid) => {
  const figure = [...document.querySelectorAll("#tiles figure.tile:not(.local):not([hidden])")]
    .find((f) => f.dataset.participantId === pid && (f.classList.contains("audio-only")
                                                    || f.classList.contains("voice-only")));
  const media = figure && figure.querySelector("video");
  if (!media) return null;
  const track = media.srcObject && media.srcObject.getAudioTracks()[0];
  return { paused: media.paused, muted: media.muted, time: media.currentTime,
           track: track ? track.readyState : null };
}"""

LOCAL_TRACKS = """() => {
  const stream = document.getElementById("local-video").srcObject;
  return stream ? stream.getTracks().map((t) => t.readyState) : [];
}"""


def said(page: Page, text: str, **values: str) -> str:
    """`text` as the page shows it, in its own language (the worker's pages are Vietnamese)."""
    shown: str = page.evaluate("([s, v]) => t(s, v)", [text, values])
    return shown


def media_said(page: Page, state: str) -> str:
    return said(page, "Media: %(state)s", state=said(page, state))


def remote_sound(page: Page, pid: str) -> dict[str, Any] | None:
    """The element that plays `pid`'s audio: paused, muted, current time, its track's state."""
    result: dict[str, Any] | None = page.evaluate(REMOTE_SOUND, pid)
    return result


def on_server(live: LiveServer, read: Callable[[], T]) -> T:
    """`read()` run on the live server's event loop (its state belongs to that thread)."""
    assert live.loop is not None

    async def call() -> T:
        return read()

    return asyncio.run_coroutine_threadsafe(call(), live.loop).result(10)


def wait_on_server(live: LiveServer, read: Callable[[], T], done: Callable[[T], bool],
                   within: float = 10.0) -> T:
    """Poll `read()` on the server's loop until `done(value)`; the last value either way."""
    deadline = time.monotonic() + within
    value = on_server(live, read)
    while not done(value) and time.monotonic() < deadline:
        time.sleep(0.1)
        value = on_server(live, read)
    return value


def remote_video(page: Page, pid: str) -> dict[str, Any] | None:
    result: dict[str, Any] | None = page.evaluate(REMOTE_VIDEO, pid)
    return result


def wait_for_video(page: Page, pid: str, frames: int, within: float = 20.0) -> dict[str, Any]:
    deadline = time.monotonic() + within
    seen = None
    while time.monotonic() < deadline:
        seen = remote_video(page, pid)
        if seen is not None and seen["frames"] >= frames and seen["luma"] > 20:
            return seen
        page.wait_for_timeout(200)
    state = page.evaluate("""() => document.getElementById("media-status").textContent + " | "
      + document.getElementById("tiles").outerHTML""")
    raise AssertionError(f"no playing video from {pid}: {seen}; {state}")


# records every text the page's connection and media statuses show, in order
WATCH_STATUS = """() => {
  window.__status = [];
  for (const id of ["conn-status", "media-status"]) {
    const node = document.getElementById(id);
    new MutationObserver(() => window.__status.push(`${id}: ${node.textContent}`))
      .observe(node, { childList: true, subtree: true, characterData: true });
  }
}"""


def drop_socket(live: LiveServer, services: Services, room_id: str, pid: str) -> bool:
    """Close `pid`'s room socket from the server's side (code 1012, service restart)."""

    async def close() -> bool:
        sockets = [c for c in services.hub._rooms.get(room_id, ()) if c.participant_id == pid]
        for connection in sockets:
            await connection.websocket.close(code=1012)
        return bool(sockets)

    assert live.loop is not None
    return asyncio.run_coroutine_threadsafe(close(), live.loop).result(10)


def assert_playing(page: Page, pid: str, within: float = 20.0) -> None:
    """`pid`'s video on `page` is playing now: its decoded frames grow at least 10 a second."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        before = remote_video(page, pid)
        page.wait_for_timeout(1000)
        after = remote_video(page, pid)
        if before and after and after["frames"] >= before["frames"] + 10 and after["luma"] > 20:
            return
    raise AssertionError(f"{pid}'s video is not playing: {remote_video(page, pid)}")


def test_two_browsers_see_each_other_and_the_server_hears_the_worker(
        playwright: Playwright, live: LiveServer, speech_wav: Path,
        tmp_path: Path) -> None:
    services: Services = live.server.config.app.state.services
    recorder = TapRecorder(services)
    contexts: list[BrowserContext] = []
    try:
        host_ctx, host, host_problems = open_browser(playwright, live, tmp_path / "host",
                                                     speech_wav)
        contexts.append(host_ctx)
        sign_in(host)
        admin_path = schedule_and_open(host, "Media check")
        link, code = create_invitation(host)
        enter_room(host)
        open_panel(host, "People")
        host.get_by_label("Admit automatically").check()
        close_panel(host, "People")
        host_id = host.locator("#room").get_attribute("data-participant-id") or ""
        room_id = host.locator("#room").get_attribute("data-room-id") or ""
        # without a model the page says so, and does not ask for consent to captions
        expect(host.locator("#captions-status")).to_have_text(
            "Captions unavailable on this server")
        expect(host.get_by_role("group", name=re.compile("^Live captions"))).to_be_hidden()

        # the worker's browser plays sound only after a gesture on the page (the room page has
        # had none: the Join click was on the page before)
        guest_ctx, guest, guest_problems = open_browser(
            playwright, live, tmp_path / "guest", speech_wav, autoplay="user-gesture-required")
        contexts.append(guest_ctx)
        guest.goto(link)
        guest.get_by_label("Your name").fill("Nguyen Van An")
        guest.get_by_label("Verification code").fill(code)
        guest.get_by_label("Your language").select_option("vi")
        guest.get_by_label("Yes, transcribe and translate what I say").check()
        guest.get_by_role("button", name="Join").click()
        # past the device check by address, not by a click (which is a gesture)
        guest.wait_for_url(re.compile(r"/check$"))
        guest.goto(f"/rooms/{room_id}")
        # hands off the worker's page until its media is set up: each Playwright query of a page
        # counts as a user gesture there, and the page must meet the remote sound without one
        from_worker = host.locator("#tiles figure.tile:not(.local):not(.audio-only)"
                                   ":not([hidden])[data-participant-id]")
        expect(from_worker).to_have_count(1)
        worker_id = from_worker.get_attribute("data-participant-id") or ""
        host_sees = wait_for_video(host, worker_id, frames=20)
        # 2 tracks each way: the worker's page has answered, so it has met its remote tracks
        counts = wait_on_server(live, lambda: services.media.counts(room_id),
                                lambda c: c.forwarding_tracks == 4)
        assert counts.forwarding_tracks == 4, counts
        assert guest.locator("#room").get_attribute("data-participant-id") == worker_id
        guest_sees = wait_for_video(guest, host_id, frames=20)  # video tiles are muted: they play
        for seen in (host_sees, guest_sees):
            assert seen["width"] > 0 and not seen["paused"], seen
        for page in (host, guest):
            expect(page.locator("#media-status")).to_have_text(media_said(page, "connected"))

        # sound: the counselor's page plays it at once; the worker's offers a button for it
        expect(host.get_by_role("button", name="Enable sound")).to_be_hidden()
        assert (remote_sound(host, worker_id) or {}).get("paused") is False
        enable = guest.locator("#sound-enable")
        expect(enable).to_be_visible()
        expect(guest.locator("#sound-note")).to_be_visible()  # "paused the sound", translated
        assert_fits_phone(guest)
        held = remote_sound(guest, host_id)
        assert held is not None and held["paused"] and not held["muted"], held
        enable.focus()  # a plain button: in the tab order, pressed with Enter
        guest.keyboard.press("Enter")
        expect(enable).to_be_hidden()
        expect(guest.locator("#mic-toggle")).to_be_focused()
        expect(guest.locator("#mic-toggle")).to_have_attribute("aria-pressed", "true")
        playing = remote_sound(guest, host_id)
        assert playing is not None and not playing["paused"] and playing["track"] == "live"
        guest.wait_for_timeout(500)
        assert (remote_sound(guest, host_id) or {}).get("time", 0) > playing["time"]

        # the speaking indicator lights on the worker's tile on the counselor's page
        worker_tile = host.locator(f'#tiles figure.tile[data-participant-id="{worker_id}"]'
                                   ":not(.audio-only)")
        expect(worker_tile.get_by_role("img", name="speaking")).to_be_visible()

        # devices are listed in labelled selects; switching the camera keeps the video flowing
        # (Chromium's second fake camera is a Y16 depth camera, which WebRTC does not encode:
        # switch to the third, another ordinary one)
        open_panel(host, "Settings")
        camera = host.get_by_label("Camera", exact=True)
        expect(camera).to_be_enabled()
        options = camera.locator("option").all_inner_texts()
        assert options == ["fake_device_0", "fake_device_1", "fake_device_2"], options
        before = remote_video(guest, host_id)
        assert before is not None
        camera.select_option(label="fake_device_2")
        after = wait_for_video(guest, host_id, frames=before["frames"] + 20)
        assert after["luma"] > 20

        deadline = time.monotonic() + TAP_SECONDS + 15
        while recorder.seconds(worker_id) < TAP_SECONDS and time.monotonic() < deadline:
            time.sleep(0.2)
        received = recorder.samples(worker_id)
        assert len(received) >= TAP_SECONDS * TAP_SAMPLE_RATE, len(received) / TAP_SAMPLE_RATE
        with wave.open(str(speech_wav)) as w:
            wav = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
        # skip the first second (the path's start-up)
        correlation = looped_correlation(received[TAP_SAMPLE_RATE:], wav)
        print(f"host sees {host_sees}, worker sees {guest_sees}, after switch {after}, "
              f"tap {len(received) / TAP_SAMPLE_RATE:.1f} s, envelope correlation "
              f"{correlation:.3f}")
        assert correlation >= 0.9

        # a dropped connection (the server's side of the worker's socket goes away, as on a
        # restart; Chromium's offline emulation leaves loopback sockets open): the worker's
        # page reconnects by itself, with a fresh peer, and the video comes back both ways
        guest.evaluate(WATCH_STATUS)
        lost, waiting = said(guest, "Connection lost — reconnecting…"), media_said(
            guest, "waiting for the room")
        assert drop_socket(live, services, room_id, worker_id)
        guest.wait_for_function("(s) => window.__status.includes(s)", arg=f"conn-status: {lost}")
        guest.wait_for_function("(s) => window.__status.includes(s)",
                                arg=f"media-status: {waiting}")  # the old peer is closed
        expect(guest.locator("#conn-status")).to_have_text(said(guest, "Connected"))
        for page in (host, guest):
            expect(page.locator("#media-status")).to_have_text(media_said(page, "connected"))
        assert_playing(host, worker_id)
        assert_playing(guest, host_id)

        # removing the worker closes their peer on both sides
        open_panel(host, "People")
        host.get_by_role("button", name="Remove Nguyen Van An").click()
        host.get_by_role("dialog", name="Remove Nguyen Van An?").get_by_role(
            "button", name="Remove").click()
        expect(guest.locator("#final")).to_be_visible()
        expect(guest.locator("#media-status")).to_have_text(media_said(guest, "ended"))
        expect(guest.locator("#tiles figure.tile:not(.local)")).to_have_count(0)
        assert guest.evaluate(LOCAL_TRACKS) == ["ended", "ended"]
        expect(host.locator(f'#tiles figure.tile[data-participant-id="{worker_id}"]'
                            ":not([hidden])")).to_have_count(0)
        # the counselor's peer, audio and video, forwarded to nobody now (and its signal outbox)
        alone = RouterCounts(peers=1, publications=2, forwarding_tracks=0, open_taps=1, tasks=1)
        counts = wait_on_server(live, lambda: services.media.counts(room_id), alone.__eq__)
        assert counts == alone, counts

        # ending the room closes the counselor's peer too, and the room's router
        admin = host_ctx.new_page()
        admin.goto(admin_path)
        admin.get_by_role("button", name="End the session").click()
        expect(host.get_by_role("heading", name="Session closed")).to_be_visible()
        expect(host.locator("#media-status")).to_have_text("Media: ended")
        assert host.evaluate(LOCAL_TRACKS) == ["ended", "ended"]
        assert wait_on_server(live, lambda: room_id in services.media.room_ids,
                              lambda present: not present) is False
        assert host_problems == [] and guest_problems == []
    finally:
        recorder.close()
        for context in contexts:
            context.close()
