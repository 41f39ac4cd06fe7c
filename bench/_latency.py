"""Captions matched to the speech they came from, and the latency figures of the benchmarks that
speak into a live room.

Captions are matched by their `t_start`/`t_end` (seconds on the session's clock): one constant
offset per speaker is found by voting over all (final, utterance) pairs, then each final goes to
the utterance its span overlaps most and each partial to its final's utterance (same
`utterance_id`; by overlap when its utterance got no final)."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from _peer import Caption
from _speech import RATE, SpeechTrack, Spoken

MATCH_TOLERANCE_S = 0.3


@dataclass
class Outcome:
    spoken: Spoken
    finals: list[Caption] = field(default_factory=list)
    partials: list[Caption] = field(default_factory=list)
    final_s: float | None = None
    first_partial_s: float | None = None
    end_detected_s: float | None = None
    """End of speech -> the VAD could confirm it (its speech end + its silence), sent times."""
    after_detection_s: float | None = None
    """The rest of the final's latency: transport, queueing, recognition, delivery."""

    @property
    def text(self) -> str:
        return " ".join(c.text for c in sorted(self.finals, key=lambda c: c.t_start))


def _offset(spoken: list[Spoken], finals: list[Caption]) -> int:
    """Samples to add to the recognizer's positions to get the track's (voting)."""
    starts = np.array([s.start for s in spoken])
    tolerance = MATCH_TOLERANCE_S * RATE

    def errors(offset: float) -> npt.NDArray[np.float64]:
        return np.array([np.min(np.abs(starts - (c.t_start * RATE + offset))) for c in finals])

    candidates = [s.start - c.t_start * RATE for c in finals for s in spoken]
    best = max(candidates, key=lambda d: (int(np.sum(errors(d) <= tolerance)),
                                          -float(np.sum(np.minimum(errors(d), tolerance)))))
    near = [s.start - c.t_start * RATE for c in finals for s in spoken
            if abs(s.start - (c.t_start * RATE + best)) <= tolerance]
    return round(statistics.median(near))


def _overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return min(a1, b1) - max(a0, b0)


def match(spoken: list[Spoken], captions: list[Caption], track: SpeechTrack,
          silence_s: float) -> tuple[list[Outcome], list[Caption]]:
    """Each utterance with its captions and latencies; and the finals that match nothing."""
    outcomes = [Outcome(s) for s in spoken]
    finals = [c for c in captions if c.final and c.text.strip()]
    if not finals:
        return outcomes, []
    offset = _offset(spoken, finals)
    unmatched = []
    by_utterance: dict[str, Outcome] = {}  # a partial goes where its utterance's final went
    for caption in sorted(captions, key=lambda c: not c.final):
        start = caption.t_start * RATE + offset
        end = max(caption.t_end * RATE + offset, start + 1)
        best = by_utterance.get(caption.utterance_id) or max(
            outcomes, key=lambda o: _overlap(start, end, o.spoken.start, o.spoken.end))
        if _overlap(start, end, best.spoken.start, best.spoken.end) <= 0:
            if caption.final and caption.text.strip():
                unmatched.append(caption)
            continue
        if caption.final:
            by_utterance[caption.utterance_id] = best
            if caption.text.strip():
                best.finals.append(caption)
        else:
            best.partials.append(caption)
    for o in outcomes:
        if o.partials:
            o.first_partial_s = min(c.at for c in o.partials) - track.time_of(o.spoken.start)
        if o.finals:
            last = max(o.finals, key=lambda c: c.t_end)
            spoken_end = track.time_of(o.spoken.end - 1)
            o.final_s = last.at - spoken_end
            confirmable = track.time_of(round(last.t_end * RATE + offset + silence_s * RATE))
            o.end_detected_s = confirmable - spoken_end
            o.after_detection_s = last.at - confirmable
    return outcomes, unmatched


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[max(1, math.ceil(q / 100 * len(ordered))) - 1], 3)

