"""One speaker talks into a live room while a reader of another language listens: when did each
sentence's translation reach the reader?

The speaker is an aiortc peer playing a `Program` (espeak-ng sentences with silences between);
the reader is a room socket whose reading language differs from the speaker's, so the server
sends it only the translation into its language (`server/ws/reading.py`). Captions are matched
to the sentences they came from by `_latency.match`. For each sentence: end of speech (the send
time of the 20-ms frame holding its last sample above -40 dBFS) -> the first `caption` message
of its final that carries a translation into the reader's language. A sentence that the
recognizer split into several finals counts when the last of them is translated. Whisper's
route (no text model into the reader's language) sends the final with the language `pending`
and the translation in the utterance's next revision; a revision without `pending` and without a
translation means Whisper gave nothing (`empty`).
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
from dataclasses import dataclass
from typing import Any

from _latency import Outcome, match, percentile
from _peer import Caption, Person
from _speech import Program, SpeechTrack
from _wer import words

from media.speech.vad import VadConfig


@dataclass(frozen=True)
class Heard:
    """One sentence as the reader got it."""

    said: str
    expected: str | None
    """Its translation as the test-built model should give it (None: not known)."""
    transcript: str
    translation: str | None
    routes: tuple[str, ...]
    final_s: float | None
    """End of speech -> its (last) final at the reader, translated or not."""
    translated_s: float | None
    """End of speech -> its translation at the reader (the same message on a text route)."""
    empty: bool
    """The translation round ended without one (Whisper returned nothing)."""

    @property
    def exact(self) -> bool:
        return (self.expected is not None and self.translation is not None
                and words(self.translation) == words(self.expected))


def _finals_by_utterance(outcome: Outcome) -> dict[str, list[Caption]]:
    by_id: dict[str, list[Caption]] = {}
    for caption in outcome.finals:
        by_id.setdefault(caption.utterance_id, []).append(caption)
    return by_id


def _settled(outcome: Outcome) -> bool:
    """Every final of the sentence has its last revision (nothing pending)."""
    by_id = _finals_by_utterance(outcome)
    return bool(by_id) and all(any(not c.pending for c in cs) for cs in by_id.values())


def heard(outcome: Outcome, track: SpeechTrack, reader: str,
          expected: dict[str, str]) -> Heard:
    by_id = _finals_by_utterance(outcome)
    ordered = sorted(by_id.values(), key=lambda cs: cs[0].t_start)
    translated = [min((c for c in cs if reader in c.translations), key=lambda c: c.at,
                      default=None) for cs in ordered]
    end = track.time_of(outcome.spoken.end - 1)
    done = [c for c in translated if c is not None]
    complete = bool(done) and len(done) == len(translated)
    return Heard(
        said=outcome.spoken.text,
        expected=expected.get(outcome.spoken.text),
        transcript=" ".join(cs[0].text for cs in ordered),
        translation=" ".join(c.translations[reader].text for c in done) if complete else None,
        routes=tuple(sorted({c.translations[reader].route for c in done})),
        final_s=max(min(c.at for c in cs) for cs in ordered) - end if ordered else None,
        translated_s=max(c.at for c in done) - end if complete else None,
        empty=any(c is None and any(not f.pending for f in cs)
                  for c, cs in zip(translated, ordered, strict=True)),
    )


async def converse(url: str, room_id: str, speaker_token: str, reader_token: str,
                   prog: Program, reader: str, expected: dict[str, str],
                   deadline_s: float) -> list[Heard]:
    """The speaker plays `prog`; returns what the reader (reading `reader`) got of each
    sentence once every sentence settled, or `deadline_s` after the track's last sample."""
    listener = Person(url, room_id, reader_token, None)
    speaker = Person(url, room_id, speaker_token, SpeechTrack(prog.audio))
    track = speaker.track
    assert track is not None
    silence_s = VadConfig().min_silence_ms / 1000

    def outcomes() -> list[Outcome]:
        mine = [c for c in listener.captions if c.speaker_id == speaker.me]
        return match(prog.spoken, mine, track, silence_s)[0]

    try:
        await asyncio.gather(listener.open(), speaker.open())
        await speaker.publish()
        while not track.done:  # noqa: ASYNC110 - the track paces itself
            await asyncio.sleep(0.2)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(deadline_s):
                while not all(_settled(o) for o in outcomes()):
                    listener.arrived.clear()
                    await listener.arrived.wait()
        if listener.errors or speaker.errors:
            raise RuntimeError(f"socket errors: {listener.errors + speaker.errors}")
        return [heard(o, track, reader, expected) for o in outcomes()]
    finally:
        await asyncio.gather(listener.close(), speaker.close(), return_exceptions=True)


def summary(run: list[Heard], prefix: str, details: bool) -> dict[str, Any]:
    """`{prefix}_p50_s`, `{prefix}_p95_s` of end of speech -> translation, and the counts."""
    translated = [h.translated_s for h in run if h.translated_s is not None]
    finals = [h.final_s for h in run if h.final_s is not None]
    after = [h.translated_s - h.final_s for h in run
             if h.translated_s is not None and h.final_s is not None]
    out: dict[str, Any] = {
        f"{prefix}_p50_s": percentile(translated, 50),
        f"{prefix}_p95_s": percentile(translated, 95),
        f"{prefix}_max_s": percentile(translated, 100),
        "final_p50_s": percentile(finals, 50),
        "final_p95_s": percentile(finals, 95),
        "translation_after_final_p50_s": (round(statistics.median(after), 3) if after
                                          else None),
        "utterances": len(run),
        "translated": len(translated),
        "untranslated": sum(h.translated_s is None for h in run),
        "empty_translations": sum(h.empty for h in run),
        "routes": sorted({r for h in run for r in h.routes}),
    }
    if any(h.expected is not None for h in run):
        out["translated_as_expected"] = sum(h.exact for h in run)
    if details:
        out["details"] = [{"said": h.said, "heard": h.transcript, "translation": h.translation,
                           "final_s": _round(h.final_s), "translated_s": _round(h.translated_s)}
                          for h in run]
    return out


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
