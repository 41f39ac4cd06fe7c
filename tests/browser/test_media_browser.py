"""Video and voice between two real headless Chromiums through the server's media router.

Each browser is its own Chromium process with fake devices: a fake camera and, as microphone, a
speech WAV made by espeak-ng (Chromium loops it). The server gathers ICE candidates on loopback.
Each page must show the other's video playing (frames decoded, not black), and the server's audio
tap for the worker must hear the WAV: its 20 ms energy envelope correlates with the file's.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import threading
import time
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from playwright.sync_api import BrowserContext, Page, Playwright, expect, sync_playwright

from media.rtc import TAP_SAMPLE_RATE, AudioTap
from rooms.migrate import upgrade
from server.services import Services
from tests.browser.test_room_flow import (
    ARGS,
    CHROMIUM,
    PHONE,
    WAIT,
    create_invitation,
    enter_room,
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


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('live') / 'counsel.db'}"
    upgrade(url)
    seed_staff(url)
    server = LiveServer(app_settings(url, rtc_host_addresses=["127.0.0.1"])).start()
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
    """Subscribes to the server's audio taps and keeps one speaker's samples.

    The subscriber runs on the live server's event loop (its own thread): it starts a task there
    that iterates the tap, and hands samples over under a lock.
    """

    def __init__(self, services: Services) -> None:
        self.speaker = ""
        self._lock = threading.Lock()
        self._pcm: list[bytes] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self.unsubscribe = services.media.on_audio_tap(self._opened)

    def _opened(self, room_id: str, participant_id: str, tap: AudioTap) -> None:
        if participant_id != self.speaker:
            return
        self._loop = asyncio.get_running_loop()
        self._tasks.append(self._loop.create_task(self._consume(tap)))

    async def _consume(self, tap: AudioTap) -> None:
        async for frame in tap:
            with self._lock:
                self._pcm.append(frame.pcm)

    def samples(self) -> np.ndarray[Any, np.dtype[np.int16]]:
        with self._lock:
            return np.frombuffer(b"".join(self._pcm), dtype="<i2")

    def seconds(self) -> float:
        return len(self.samples()) / TAP_SAMPLE_RATE

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
    """Best Pearson correlation of the received envelope with the looped WAV's, over every lag.

    Chromium loops the file from when the page opened the microphone, so the tap starts at an
    unknown point of the loop: every lag within one period is tried.
    """
    ref = envelope(wav)
    got = envelope(received)
    period = len(ref)
    looped = np.tile(ref, len(got) // period + 2)
    return max(float(np.corrcoef(got, looped[lag: lag + len(got)])[0, 1])
               for lag in range(period))


def open_browser(playwright: Playwright, live: LiveServer, profile: Path, wav: Path
                 ) -> tuple[BrowserContext, Page, list[str]]:
    context = playwright.chromium.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, headless=True, base_url=live.url,
        viewport=PHONE, locale="en-US",
        args=[*ARGS, "--use-fake-ui-for-media-stream",
              "--use-fake-device-for-media-stream=device-count=2",
              f"--use-file-for-fake-audio-capture={wav}", "--allow-loopback-in-peer-connection",
              "--autoplay-policy=no-user-gesture-required"])
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


@pytest.mark.xfail(reason="the worker (late joiner) never decodes the counselor's forwarded video: "
                   "no keyframe reaches it from the Chromium publisher", strict=False)
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
        schedule_and_open(host, "Media check")
        link, code = create_invitation(host)
        enter_room(host)
        host.get_by_label("Admit automatically").check()
        host_id = host.locator("#room").get_attribute("data-participant-id") or ""

        guest_ctx, guest, guest_problems = open_browser(playwright, live, tmp_path / "guest",
                                                        speech_wav)
        contexts.append(guest_ctx)
        guest.goto(link)
        guest.get_by_label("Your name").fill("Nguyen Van An")
        guest.get_by_label("Verification code").fill(code)
        guest.get_by_label("Your language").select_option("vi")
        guest.get_by_label("Yes, transcribe and translate what I say").check()
        worker_id = ""
        guest.get_by_role("button", name="Join").click()
        expect(guest.get_by_role("heading", name="Chat")).to_be_visible()
        worker_id = guest.locator("#room").get_attribute("data-participant-id") or ""
        recorder.speaker = worker_id  # its tap opens once its audio reaches the server

        host_sees = wait_for_video(host, worker_id, frames=20)
        guest_sees = wait_for_video(guest, host_id, frames=20)
        for seen in (host_sees, guest_sees):
            assert seen["width"] > 0 and not seen["paused"], seen
        for page in (host, guest):
            expect(page.locator("#media-status")).to_have_text("Media: connected")

        # the speaking indicator lights on the worker's tile on the counselor's page
        worker_tile = host.locator(f'#tiles figure.tile[data-participant-id="{worker_id}"]'
                                   ":not(.audio-only)")
        expect(worker_tile.get_by_role("img", name="speaking")).to_be_visible()

        # devices are listed in labelled selects; switching the camera keeps the video flowing
        camera = host.get_by_label("Camera", exact=True)
        expect(camera).to_be_enabled()
        options = camera.locator("option").all_inner_texts()
        assert len(options) == 2, options
        before = remote_video(guest, host_id)
        assert before is not None
        camera.select_option(index=1)
        after = wait_for_video(guest, host_id, frames=before["frames"] + 20)
        assert after["luma"] > 20

        deadline = time.monotonic() + TAP_SECONDS + 15
        while recorder.seconds() < TAP_SECONDS and time.monotonic() < deadline:
            time.sleep(0.2)
        received = recorder.samples()
        assert len(received) >= TAP_SECONDS * TAP_SAMPLE_RATE, len(received) / TAP_SAMPLE_RATE
        with wave.open(str(speech_wav)) as w:
            wav = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
        # skip the first second (the path's start-up)
        correlation = looped_correlation(received[TAP_SAMPLE_RATE:], wav)
        print(f"host sees {host_sees}, worker sees {guest_sees}, after switch {after}, "
              f"tap {len(received) / TAP_SAMPLE_RATE:.1f} s, envelope correlation "
              f"{correlation:.3f}")
        assert correlation >= 0.9
        assert host_problems == [] and guest_problems == []
    finally:
        recorder.close()
        for context in contexts:
            context.close()
