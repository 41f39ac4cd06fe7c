"""Live captions between two real headless Chromiums, through the server's Whisper (tiny.en).

Each browser's fake microphone plays its own espeak-ng sentence (Chromium loops the WAV). The
worker consented on the join page; the counselor, who is not asked there, answers the room
page's question. Each page must show the other person's words as captions: the growing partial
in grey, then the final text. The counselor then withdraws consent with the "Caption what I say"
switch and the room shows that only the worker is captioned.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, Playwright, expect, sync_playwright

from media.rtc import TAP_SAMPLE_RATE
from media.speech.models import install
from rooms.migrate import upgrade
from server.services import Services
from tests.browser.test_media_browser import on_server, open_browser
from tests.browser.test_room_flow import (
    assert_fits_phone,
    close_panel,
    create_invitation,
    enter_room,
    open_panel,
    past_device_check,
    schedule_and_open,
    sign_in,
)
from tests.conftest import app_settings, seed_staff
from tests.live import LiveServer
from tests.speech.conftest import MODELS_DIR

pytestmark = pytest.mark.browser

COUNSELOR_SAYS = "Please bring your medical report to the next meeting."
WORKER_SAYS = "I would like to learn a new job in an office."
CAPTION_WAIT = 45_000  # ms: a loop of the WAV, the end of speech, one recognition, under load

# every caption message the page got, in order (room.js dispatches them on #room)
RECORD_CAPTIONS = """
window.__captions = [];
document.addEventListener("DOMContentLoaded", () => {
  const room = document.getElementById("room");
  if (room) room.addEventListener("room:message", (ev) => {
    if (ev.detail && ev.detail.type === "caption") window.__captions.push(ev.detail);
  });
});
"""


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    install("tiny.en", MODELS_DIR)
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('live') / 'counsel.db'}"
    upgrade(url)
    seed_staff(url)
    settings = app_settings(url, rtc_host_addresses=["127.0.0.1"], models_dir=MODELS_DIR,
                            speech_model="tiny.en")
    server = LiveServer(settings).start()
    services: Services = server.server.config.app.state.services
    assert live_models(server, services), services.captions.disabled_reason
    yield server
    server.stop()


def live_models(server: LiveServer, services: Services) -> bool:
    """Load the model before any browser speaks (the first load takes seconds)."""
    assert server.loop is not None
    future = asyncio.run_coroutine_threadsafe(services.captions.models(), server.loop)
    return future.result(120) is not None


@pytest.fixture(scope="module")
def playwright(live: LiveServer) -> Iterator[Playwright]:
    with sync_playwright() as p:  # after the live server: see test_room_flow.py
        yield p


def sentence_wav(root: Path, name: str, text: str) -> Path:
    """`text` by espeak-ng, 16 kHz mono, with a second of silence before and two after (so
    each loop of the file is one utterance with a clear end)."""
    raw, wav = root / f"{name}.raw.wav", root / f"{name}.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(raw), text], check=True)
    subprocess.run(["sox", str(raw), "-r", str(TAP_SAMPLE_RATE), "-c", "1", "-b", "16",
                    str(wav), "pad", "1.0", "2.0"], check=True)
    return wav


def wait_for_final(page: Page, speaker_id: str, expected: set[str]) -> str:
    """The final text of one of `speaker_id`'s caption lines once one holds every expected
    word (the strip keeps a speaker's last few lines)."""
    every_word = "".join(rf"(?=.*\b{re.escape(word)}\b)" for word in sorted(expected))
    line = page.locator(f'#captions .caption-line[data-speaker-id="{speaker_id}"] .final'
                        ).filter(has_text=re.compile(every_word, re.IGNORECASE)).first
    expect(line).to_be_attached(timeout=CAPTION_WAIT)
    return line.inner_text()


def test_each_page_shows_the_other_persons_words_as_captions(
        playwright: Playwright, live: LiveServer, tmp_path: Path) -> None:
    counselor_wav = sentence_wav(tmp_path, "counselor", COUNSELOR_SAYS)
    worker_wav = sentence_wav(tmp_path, "worker", WORKER_SAYS)
    contexts: list[BrowserContext] = []
    try:
        host_ctx, host, host_problems = open_browser(playwright, live, tmp_path / "host",
                                                     counselor_wav)
        contexts.append(host_ctx)
        host_ctx.add_init_script(RECORD_CAPTIONS)
        sign_in(host)
        schedule_and_open(host, "Captions check")
        link, code = create_invitation(host)
        enter_room(host)
        open_panel(host, "People")
        host.get_by_label("Admit automatically").check()
        close_panel(host, "People")
        host_id = host.locator("#room").get_attribute("data-participant-id") or ""
        room_id = host.locator("#room").get_attribute("data-room-id") or ""

        # staff are asked on the room page; until they answer, nobody is captioned
        ask = host.get_by_role("group", name=re.compile("^Live captions"))
        expect(ask).to_be_visible()
        assert_fits_phone(host)
        expect(host.locator("#captions-status")).to_have_text(
            "Captions off: nobody has agreed to transcription")
        ask.get_by_role("button", name="Yes, caption me").click()
        expect(ask).to_be_hidden()
        switch = host.get_by_label("Caption what I say")
        expect(switch).to_be_checked()
        expect(host.locator("#captions-toggle")).to_be_focused()  # the switch is in its sheet
        expect(host.locator("#captions-status")).to_have_text("Captions on (Counselor Kim)")

        guest_ctx, guest, guest_problems = open_browser(playwright, live, tmp_path / "guest",
                                                        worker_wav)
        contexts.append(guest_ctx)
        guest_ctx.add_init_script(RECORD_CAPTIONS)
        guest.goto(link)
        guest.get_by_label("Your name").fill("Maria Lopez")
        guest.get_by_label("Verification code").fill(code)
        guest.get_by_label("Your language").select_option("en")
        guest.get_by_label("Yes, transcribe and translate what I say").check()
        guest.get_by_role("button", name="Join").click()
        past_device_check(guest)
        expect(guest.locator("#media-status")).to_have_text("Media: connected")
        worker_id = guest.locator("#room").get_attribute("data-participant-id") or ""
        # the worker answered on the join page: no question for them, their switch is on
        expect(guest.get_by_role("group", name=re.compile("^Live captions"))).to_be_hidden()
        expect(guest.get_by_label("Caption what I say")).to_be_checked()
        for page in (host, guest):
            expect(page.locator("#captions-status")).to_have_text(
                re.compile(r"^Captions on \((Counselor Kim, Maria Lopez|Maria Lopez, "
                           r"Counselor Kim)\)$"))

        # each page shows the other's words: partials (grey) while a sentence is spoken, then
        # the final text. (Not necessarily for the first sentence: one already under way when
        # the page joined may reach it only as a final; the audio loops, the next one will.)
        heard_by_host = wait_for_final(host, worker_id, {"job", "office"})
        heard_by_worker = wait_for_final(guest, host_id, {"medical", "report"})
        for page, speaker in ((host, worker_id), (guest, host_id)):
            page.wait_for_function(
                """(speaker) => {
                     const mine = window.__captions.filter((c) => c.speaker_id === speaker);
                     return mine.some((f) => f.final && mine.some((c) => !c.final
                       && c.utterance_id === f.utterance_id && c.rev < f.rev));
                   }""", arg=speaker, timeout=60_000)
            partial = page.locator(f'#captions .caption-line[data-speaker-id="{speaker}"] '
                                   ".partial").first
            assert partial.evaluate("(e) => getComputedStyle(e).color") == "rgb(167, 173, 180)"
            assert partial.get_attribute("aria-hidden") == "true"  # finals only, for readers
        print(f"counselor's page: {heard_by_host!r}; worker's page: {heard_by_worker!r}")

        # the caption size can be changed (and is kept in the browser)
        strip = guest.locator("#captions")
        before = float(strip.get_attribute("data-size") or 0)
        open_panel(guest, "Captions")
        guest.get_by_role("button", name="Larger captions").click()
        assert float(strip.get_attribute("data-size") or 0) > before
        assert_fits_phone(guest)

        # the counselor withdraws: the room shows that only the worker is captioned
        open_panel(host, "Captions")
        switch.uncheck()
        for page in (host, guest):
            expect(page.locator("#captions-status")).to_have_text("Captions on (Maria Lopez)")
        services: Services = live.server.config.app.state.services
        assert on_server(live, lambda: (room_id, host_id) not in services.captions.active)
        assert host_problems == [] and guest_problems == []
    finally:
        for context in contexts:
            context.close()


def silent_wav(root: Path) -> Path:
    wav = root / "silence.wav"
    subprocess.run(["sox", "-n", "-r", str(TAP_SAMPLE_RATE), "-c", "1", "-b", "16", str(wav),
                    "trim", "0", "3"], check=True)
    return wav


def caption(speaker_id: str, utterance_id: str, rev: int, text: str, t_start: float,
            *, final: bool = False, abandoned: bool = False) -> dict[str, object]:
    return {"v": 1, "type": "caption", "speaker_id": speaker_id, "speaker_name": "Counselor Kim",
            "utterance_id": utterance_id, "rev": rev, "final": final, "abandoned": abandoned,
            "lang": "en", "text": text, "t_start": t_start, "t_end": t_start + 2,
            "translations": {}}


DISPATCH = """(messages) => {
  const room = document.getElementById("room");
  for (const m of messages) room.dispatchEvent(new CustomEvent("room:message", { detail: m }));
}"""


def test_caption_lines_follow_utterances_across_reconnects_and_consent(
        playwright: Playwright, live: LiveServer, tmp_path: Path) -> None:
    """The page as the server drives it around a reconnect: a new stream's captions start at
    rev 1 again with new utterance ids and must show (the page used to drop them as "older");
    a sentence finalised late by a replaced peer takes its place by time; stale revisions and
    partials after a final change nothing; an abandoned sentence disappears; the server's
    "starting" state shows until it is ready."""
    context, page, problems = open_browser(playwright, live, tmp_path / "page",
                                           silent_wav(tmp_path))
    try:
        sign_in(page)
        schedule_and_open(page, "Caption lines")
        enter_room(page)
        page.get_by_role("button", name="Yes, caption me").click()
        status = page.locator("#captions-status")
        expect(status).to_have_text("Captions on (Counselor Kim)")
        me = page.locator("#room").get_attribute("data-participant-id") or ""
        lines = page.locator(f'#captions .caption-line[data-speaker-id="{me}"]')

        page.evaluate(DISPATCH, [{"v": 1, "type": "captions.status", "state": "starting"}])
        expect(status).to_have_text("Captions starting…")
        page.evaluate(DISPATCH, [{"v": 1, "type": "captions.status", "state": "ready"}])
        expect(status).to_have_text("Captions on (Counselor Kim)")

        page.evaluate(DISPATCH, [
            caption(me, "a", 1, "hello", 5.0), caption(me, "a", 2, "hello there", 5.0),
            caption(me, "a", 3, "Hello there.", 5.0, final=True),
            caption(me, "a", 2, "hello th", 5.0),  # a stale partial: the final stays
            caption(me, "b", 1, "and then", 9.0),  # the peer is replaced mid-sentence ...
            # ... the new stream starts over at rev 1, with new utterances
            caption(me, "c", 1, "new words", 12.0),
        ])
        expect(lines).to_have_text(["Counselor Kim: Hello there.",
                                    "Counselor Kim: and then", "Counselor Kim: new words"])
        partial = lines.nth(1).locator(".partial")
        assert partial.get_attribute("aria-hidden") == "true"
        assert partial.evaluate("(e) => getComputedStyle(e).color") == "rgb(167, 173, 180)"

        page.evaluate(DISPATCH, [
            caption(me, "b", 2, "And then we left.", 9.0, final=True),  # the old tap's final
            caption(me, "c", 2, "New words here.", 12.0, final=True),
            caption(me, "c", 1, "new words", 12.0),  # late: ignored
            caption(me, "e", 1, "Late but earlier.", 11.0, final=True),  # placed by time
        ])
        # the last three lines of the speaker, in the order they were spoken
        expect(lines).to_have_text(["Counselor Kim: And then we left.",
                                    "Counselor Kim: Late but earlier.",
                                    "Counselor Kim: New words here."])
        page.evaluate(DISPATCH, [caption(me, "d", 1, "I would rather", 15.0)])
        expect(lines).to_have_text(["Counselor Kim: Late but earlier.",
                                    "Counselor Kim: New words here.",
                                    "Counselor Kim: I would rather"])
        # consent withdrawn mid-sentence: the server abandons it and the partial goes
        page.evaluate(DISPATCH, [caption(me, "d", 2, "", 15.0, abandoned=True),
                                 caption(me, "d", 1, "I would rather", 15.0)])
        expect(lines).to_have_text(["Counselor Kim: Late but earlier.",
                                    "Counselor Kim: New words here."])
        assert [lines.nth(i).get_attribute("data-utterance-id") for i in range(2)] == ["e", "c"]
        assert problems == []
    finally:
        context.close()
