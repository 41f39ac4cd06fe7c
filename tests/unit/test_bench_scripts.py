"""Every benchmark starts as the docs say (`python bench/NAME.py`), with the project's packages
importable: `bench/media.py` must not shadow the `media` package."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.mark.parametrize("script", sorted(p.name for p in BENCH.glob("[a-z]*.py")))
def test_benchmark_script_starts(script: str) -> None:
    result = subprocess.run([sys.executable, str(BENCH / script), "--help"],
                            capture_output=True, text=True, timeout=120, cwd=BENCH)
    assert result.returncode == 0, result.stderr
    assert "--json" in result.stdout


@pytest.fixture
def bench_modules(monkeypatch: pytest.MonkeyPatch) -> None:
    """The benchmarks' shared modules importable (bench/ last: `bench/media.py` must not shadow
    the `media` package)."""
    monkeypatch.setattr(sys, "path", [*sys.path, str(BENCH)])


async def test_translation_bench_times_each_sentence_to_its_translation(
        bench_modules: None) -> None:
    """bench/translation.py's figures: end of speech -> the caption carrying the reader's
    translation (the final on a text route, its next revision on Whisper's; a sentence split
    into two finals counts when both are translated; a revision with nothing is `empty`)."""
    import numpy as np
    from _latency import Outcome
    from _peer import Caption, Translation
    from _speech import RATE, SpeechTrack, Spoken
    from _talk import heard

    track = SpeechTrack(np.zeros(4 * RATE, np.int16))
    track.sent_at = [100 + i * 0.02 for i in range(track.frames)]
    spoken = Spoken("Guten Morgen.", RATE, 2 * RATE)
    end = track.time_of(2 * RATE - 1)

    def caption(utterance: str, at: float, rev: int, t_start: float = 1.0,
                en: tuple[str, str] | None = None, pending: tuple[str, ...] = ()) -> Caption:
        return Caption(end + at, "speaker", utterance, rev, True, f"text {utterance}", t_start,
                       t_start + 0.5, "de", {"en": Translation(*en)} if en else {}, pending)

    expected = {"Guten Morgen.": "Good morning."}
    text = heard(Outcome(spoken, [caption("u", 0.8, 3, en=("Good morning.", "direct"))]),
                 track, "en", expected)
    assert (text.final_s, text.translated_s, text.exact) == (pytest.approx(0.8),
                                                              pytest.approx(0.8), True)

    whisper = heard(Outcome(spoken, [caption("u", 0.5, 3, pending=("en",)),
                                     caption("u", 1.1, 4, en=("Good day.", "whisper"))]),
                    track, "en", expected)
    assert whisper.final_s == pytest.approx(0.5) and whisper.translated_s == pytest.approx(1.1)
    assert (whisper.routes, whisper.exact, whisper.empty) == (("whisper",), False, False)

    split = heard(Outcome(spoken, [caption("b", 1.5, 2, 1.6, en=("morning.", "direct")),
                                   caption("a", 0.2, 2, 1.0, en=("Good", "direct"))]),
                  track, "en", expected)
    assert split.translated_s == pytest.approx(1.5) and split.translation == "Good morning."

    empty = heard(Outcome(spoken, [caption("u", 0.5, 3, pending=("en",)),
                                   caption("u", 1.1, 4)]), track, "en", expected)
    assert (empty.translated_s, empty.translation, empty.empty) == (None, None, True)


async def test_translation_bench_times_each_correction_to_the_caption_that_shows_it(
        bench_modules: None) -> None:
    """bench/translation.py's correction_delivery_*: send -> the first `caption` of the
    utterance at the listener showing the corrected text (the reader's translation, or the
    source text for a source correction); other texts and other utterances do not count."""
    from _corrections import READER, SOURCE, RoomRun, Sent, _delivered
    from _interpreted import InterpretedRoom
    from _peer import Caption, Person, Translation
    from _seed import Member

    member = Member("p", "worker", "t")
    run = RoomRun(InterpretedRoom("room", member, member, (member,)), ["u1", "u2", "u3"])
    run.sent = [Sent("room", "u1", READER, "Fixed one.", 10.0),
                Sent("room", "u2", SOURCE, "Korrigiert.", 11.0),
                Sent("room", "u3", READER, "Never shown.", 12.0)]
    listener = Person("ws://bench", "room", "t", None)

    def caption(utterance: str, at: float, text: str, english: str) -> Caption:
        return Caption(at, "host", utterance, 1_000_001, True, text, 0.0, 1.0, SOURCE,
                       {READER: Translation(english, "interpreter")})

    listener.captions = [caption("u1", 10.05, "Quelle.", "Machine."),
                         caption("u1", 10.08, "Quelle.", "Fixed one."),
                         caption("u1", 10.5, "Quelle.", "Fixed one."),
                         caption("u3", 12.1, "Quelle.", "Fixed one."),
                         caption("u2", 11.2, "Korrigiert.", "Corrected.")]
    delays = {sent.utterance_id: delay for sent, delay in _delivered(run, listener)}
    assert delays == {"u1": pytest.approx(0.08), "u2": pytest.approx(0.2)}
