"""A corrected final as readers see it (`server.corrections.current`) and what each reader's
socket keeps of it (`server.ws.reading.for_reader`): pure functions, no server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rooms.models import CaptionCorrection, TranscriptEntry
from server.corrections import INTERPRETER_ROUTE, current
from server.ws.protocol import CORRECTED_REV
from server.ws.reading import for_reader

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def entry() -> TranscriptEntry:
    return TranscriptEntry(
        id="e1", room_id="r", speaker_id="w", speaker_name="Tran Thi Mai", utterance_id="u1",
        language="vi", text="Xin chào", t_start=3.0, t_end=4.5,
        translations={"ko": {"text": "안녕하세요", "route": "multilingual"},
                      "en": {"text": "Hello", "route": "multilingual"}})


def fix(language: str, text: str, minute: int, by: str = "Interpreter Kim", *,
        landed: bool = False) -> CaptionCorrection:
    """A correction; ``landed``: a source correction whose re-translation is in the entry."""
    at = T0 + timedelta(minutes=minute)
    return CaptionCorrection(
        id=f"c{minute}", room_id="r", utterance_id="u1", language=language, text=text,
        replaced_text="", corrected_by="i1", corrected_by_name=by, created_at=at,
        retranslated_at=at if landed else None)


def test_an_uncorrected_final_keeps_its_machine_text_above_every_recognizer_revision() -> None:
    caption = current(entry(), [])
    assert (caption.rev, caption.text, caption.corrections) == (CORRECTED_REV, "Xin chào", {})
    assert caption.translations["ko"].route == "multilingual"


def test_the_latest_correction_of_a_language_wins() -> None:
    caption = current(entry(), [fix("ko", "안녕", 1), fix("ko", "안녕하십니까", 2, "Lee")])
    assert caption.rev == CORRECTED_REV + 2
    assert caption.translations["ko"].model_dump() == {"text": "안녕하십니까",
                                                       "route": INTERPRETER_ROUTE}
    assert caption.corrections["ko"].by == "Lee"
    assert caption.translations["en"].text == "Hello" and "en" not in caption.corrections


def test_a_source_correction_supersedes_earlier_translation_corrections_only() -> None:
    caption = current(entry(), [fix("ko", "안녕", 1), fix("vi", "Cảm ơn", 2, landed=True)])
    assert caption.text == "Cảm ơn" and set(caption.corrections) == {"vi"}
    assert caption.translations["ko"].text == "안녕하세요"  # the entry's (re-)translation
    later = current(entry(), [fix("vi", "Cảm ơn", 1, landed=True), fix("ko", "고맙습니다", 2)])
    assert later.translations["ko"].text == "고맙습니다"
    assert set(later.corrections) == {"vi", "ko"}


def test_a_source_correction_waits_for_its_re_translation_then_lands_one_revision_higher(
        ) -> None:
    source = fix("vi", "Cảm ơn", 1)
    moot = entry()
    moot.translations = {}  # what a source correction leaves until its re-translation lands
    waiting = current(moot, [fix("ko", "안녕", 0), source], readers={"vi", "ko", "en"})
    assert (waiting.rev, waiting.translations, waiting.pending) == (CORRECTED_REV + 2, {},
                                                                    ["en", "ko"])
    source.retranslated_at = T0 + timedelta(minutes=2)
    moot.translations = {"ko": {"text": "감사합니다", "route": "multilingual"}}
    landed = current(moot, [fix("ko", "안녕", 0), source], readers={"vi", "ko", "en"})
    assert landed.rev == CORRECTED_REV + 3 and landed.pending == []
    assert landed.translations["ko"].text == "감사합니다"  # the earlier ko correction gave way


def test_a_reader_keeps_their_language_and_the_source_of_the_corrections() -> None:
    message = current(entry(), [fix("en", "Hi there", 1), fix("ko", "안녕", 2)]).model_dump(
        mode="json")
    korean = for_reader(message, "ko", every_language=False)
    assert list(korean["translations"]) == ["ko"] and list(korean["corrections"]) == ["ko"]
    vietnamese = for_reader(message, "vi", every_language=False)
    assert vietnamese["translations"] == {} and vietnamese["corrections"] == {}
    console = for_reader(message, "ko", every_language=True)
    assert set(console["corrections"]) == {"en", "ko"}
    history = for_reader({"type": "captions.history", "captions": [message]}, "en",
                         every_language=False)
    assert list(history["captions"][0]["corrections"]) == ["en"]
