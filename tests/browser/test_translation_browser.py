"""Live translation between two real headless Chromiums that read different languages.

A German-speaking worker (the join page's language: German) and a counselor who reads English
talk through the server's Whisper (whisper-base) and chat. A test-built multilingual model
(tests/translation/packbuild.py: each phrase of a row becomes the same row's phrase in the
target language) translates, so each page must show exactly the other person's caption and
chat message in its own reader's language, marked as a machine translation, with the original
one tap away ("Show original" for captions, a disclosure for chat). The counselor then reads in
Korean: the chat so far and the next captions come again, in Korean.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, Playwright, expect, sync_playwright

from media.rtc import TAP_SAMPLE_RATE
from media.speech.models import install
from rooms.migrate import upgrade
from server.services import Services
from tests.browser.test_captions_browser import live_models
from tests.browser.test_media_browser import open_browser
from tests.browser.test_room_flow import (
    assert_fits_phone,
    chat_log,
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
from tests.translation.packbuild import installed_multilingual

pytestmark = pytest.mark.browser

WORKER_SAYS = "Guten Morgen, ich habe eine Frage."  # whisper-base writes espeak's German exactly
COUNSELOR_SAYS = "Please bring your medical report to the next meeting."
WORKER_TYPES = "Danke, bis morgen."
COUNSELOR_TYPES = "See you tomorrow, thank you."
ROWS = [
    {"de": "Guten Morgen", "en": "Good morning", "ko": "좋은 아침입니다"},
    {"de": "ich habe eine Frage", "en": "I have a question", "ko": "질문이 있습니다"},
    {"de": "Bitte bringen Sie Ihren ärztlichen Bericht zum nächsten Termin",
     "en": "Please bring your medical report to the next meeting",
     "ko": "다음 상담 때 진단서를 가져오세요"},
    {"de": "danke", "en": "thank you", "ko": "감사합니다"},
    {"de": "bis morgen", "en": "see you tomorrow", "ko": "내일 봐요"},
]
NEWEST_IN_VIEW = "(strip) => strip.scrollHeight - strip.scrollTop - strip.clientHeight < 8"
CAPTION_WAIT = 60_000  # ms: a loop of the WAV, the end of speech, recognition and translation


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    install("whisper-base", MODELS_DIR)
    translation_dir = installed_multilingual(tmp_path_factory, ROWS)
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('live') / 'counsel.db'}"
    upgrade(url)
    seed_staff(url)
    settings = app_settings(url, rtc_host_addresses=["127.0.0.1"], models_dir=MODELS_DIR,
                            speech_model="whisper-base", translation_dir=translation_dir,
                            staff_language="en")
    server = LiveServer(settings).start()
    services: Services = server.server.config.app.state.services
    assert live_models(server, services), services.captions.disabled_reason
    yield server
    server.stop()


@pytest.fixture(scope="module")
def playwright(live: LiveServer) -> Iterator[Playwright]:
    with sync_playwright() as p:  # after the live server: see test_room_flow.py
        yield p


def speech_wav(root: Path, name: str, voice: str, text: str) -> Path:
    """`text` by espeak-ng's `voice`, 16 kHz mono, a second of silence before and two after."""
    raw, wav = root / f"{name}.raw.wav", root / f"{name}.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", "150", "-w", str(raw), text], check=True)
    subprocess.run(["sox", str(raw), "-r", str(TAP_SAMPLE_RATE), "-c", "1", "-b", "16",
                    str(wav), "pad", "1.0", "2.0"], check=True)
    return wav


def caption_line(page: Page, speaker_id: str, text: str) -> Locator:
    """One of `speaker_id`'s caption lines whose final text is exactly `text` (the WAV loops,
    so the strip may hold several)."""
    final = page.locator(".final").filter(has_text=re.compile(f"^{re.escape(text)}$"))
    return page.locator(f'#captions .caption-line[data-speaker-id="{speaker_id}"]').filter(
        has=final).first


def chat_item(page: Page, text: str) -> Locator:
    shown = page.locator("p.chat-text").filter(has_text=re.compile(f"^{re.escape(text)}$"))
    return chat_log(page).get_by_role("listitem").filter(has=shown.first)


def assert_machine_translated_chat(item: Locator, original: str, source: str) -> None:
    """The item says it is a machine translation; its original opens from the disclosure."""
    details = item.locator("details.original")
    expect(details.locator("summary")).to_have_text(
        f"Machine translation from {source} · show original")
    shown = details.locator("p.chat-text")
    expect(shown).to_be_hidden()
    details.locator("summary").click()
    expect(shown).to_have_text(original)
    expect(shown).to_be_visible()


def test_each_page_reads_the_other_person_in_its_own_language(
        playwright: Playwright, live: LiveServer, tmp_path: Path) -> None:
    contexts: list[BrowserContext] = []
    try:
        host_ctx, host, host_problems = open_browser(
            playwright, live, tmp_path / "host",
            speech_wav(tmp_path, "counselor", "en-us", COUNSELOR_SAYS))
        contexts.append(host_ctx)
        sign_in(host)
        schedule_and_open(host, "Translated captions")
        link, code = create_invitation(host)
        enter_room(host)
        open_panel(host, "People")
        host.get_by_label("Admit automatically").check()
        close_panel(host, "People")
        host.get_by_role("button", name="Yes, caption me").click()
        host_id = host.locator("#room").get_attribute("data-participant-id") or ""
        expect(host.get_by_label("Read captions and chat in")).to_have_value("en")

        guest_ctx, guest, guest_problems = open_browser(
            playwright, live, tmp_path / "guest",
            speech_wav(tmp_path, "worker", "de", WORKER_SAYS))
        contexts.append(guest_ctx)
        guest.goto(link)
        guest.get_by_label("Your name").fill("Jonas Weber")
        guest.get_by_label("Verification code").fill(code)
        guest.get_by_label("Your language").select_option("de")
        guest.get_by_label("Yes, transcribe and translate what I say").check()
        guest.get_by_role("button", name="Join").click()
        past_device_check(guest)
        expect(guest.locator("#media-status")).to_have_text("Media: connected")
        worker_id = guest.locator("#room").get_attribute("data-participant-id") or ""
        expect(guest.get_by_label("Read captions and chat in")).to_have_value("de")

        # chat: each reads the other's message in their own language, the original a tap away
        open_panel(guest, "Chat")
        open_panel(host, "Chat")
        guest.get_by_label("Message", exact=True).fill(WORKER_TYPES)
        guest.get_by_label("Message", exact=True).press("Enter")
        host.get_by_label("Message", exact=True).fill(COUNSELOR_TYPES)
        host.get_by_label("Message", exact=True).press("Enter")
        from_worker = chat_item(host, "Thank you, see you tomorrow.")
        assert_machine_translated_chat(from_worker, WORKER_TYPES, "Deutsch (German)")
        expect(from_worker.locator("p.chat-text").first).to_have_attribute("lang", "en")
        from_counselor = chat_item(guest, "Bis morgen, danke.")
        assert_machine_translated_chat(from_counselor, COUNSELOR_TYPES, "English")
        expect(from_counselor.locator("p.chat-text").first).to_have_attribute("lang", "de")
        expect(chat_item(guest, WORKER_TYPES).locator("details")).to_have_count(0)  # own words

        # captions: each page shows the other's final in its reader's language, marked so
        heard_by_host = caption_line(host, worker_id, "Good morning, I have a question.")
        heard_by_worker = caption_line(guest, host_id,
                                       "Bitte bringen Sie Ihren ärztlichen Bericht zum "
                                       "nächsten Termin.")
        for page, line, original in ((host, heard_by_host, WORKER_SAYS),
                                     (guest, heard_by_worker, COUNSELOR_SAYS)):
            expect(line).to_be_attached(timeout=CAPTION_WAIT)
            expect(line.locator(".caption-note")).to_have_text(" (machine translation)")
            shown_original = line.locator(".caption-original")
            expect(shown_original).to_be_hidden()
            open_panel(page, "Captions")
            switch = page.get_by_label("Show original", exact=True)
            switch.check()
            expect(shown_original).to_have_text(f" — {original}")
            expect(shown_original).to_be_visible()
            # the strip grew taller than its box: it keeps the newest words in view
            assert page.locator("#captions").evaluate(NEWEST_IN_VIEW)
            assert_fits_phone(page)

        # the counselor now reads Korean: the chat so far and the next captions follow
        open_panel(host, "Settings")
        host.get_by_label("Read captions and chat in").select_option("ko")
        open_panel(host, "Chat")
        expect(chat_item(host, "감사합니다, 내일 봐요.")).to_have_count(1)
        expect(chat_log(host).get_by_role("listitem")).to_have_count(2)
        expect(chat_item(host, COUNSELOR_TYPES).locator("details")).to_have_count(0)
        expect(chat_item(host, "Thank you, see you tomorrow.")).to_have_count(0)
        expect(caption_line(host, worker_id, "좋은 아침입니다, 질문이 있습니다.")).to_be_attached(
            timeout=CAPTION_WAIT)
        expect(caption_line(host, worker_id, "Good morning, I have a question.")).to_have_count(0)
        assert host_problems == [] and guest_problems == []
    finally:
        for context in contexts:
            context.close()
