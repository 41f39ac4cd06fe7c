"""Audio sample helpers: every speech stage works on float32 mono samples at 16 kHz."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

SAMPLE_RATE = 16_000

FloatAudio = npt.NDArray[np.float32]


def to_float32(frame: npt.NDArray[np.generic]) -> FloatAudio:
    """Convert int16 PCM or float samples to a flat float32 array in [-1, 1]."""
    flat = np.asarray(frame).reshape(-1)
    if flat.dtype == np.int16:
        return (flat.astype(np.float32) / 32768.0).astype(np.float32)
    if np.issubdtype(flat.dtype, np.floating):
        return flat.astype(np.float32, copy=False)
    raise TypeError(f"audio must be int16 or float samples, got {flat.dtype}")


def seconds(samples: int) -> float:
    return samples / SAMPLE_RATE


def samples_of(duration_s: float) -> int:
    return round(duration_s * SAMPLE_RATE)


class SampleBuffer:
    """Growing audio addressed by absolute sample index; old samples can be dropped."""

    def __init__(self) -> None:
        self._chunks: list[FloatAudio] = []
        self._first = 0
        self._end = 0

    @property
    def end(self) -> int:
        """Absolute index one past the newest sample."""
        return self._end

    def append(self, samples: FloatAudio) -> None:
        if samples.size:
            self._chunks.append(samples)
            self._end += samples.size

    def slice(self, start: int, stop: int) -> FloatAudio:
        """Samples [start, stop) clipped to what is still held."""
        self._compact()
        held = self._chunks[0] if self._chunks else np.zeros(0, np.float32)
        lo = max(start, self._first) - self._first
        hi = max(min(stop, self._end) - self._first, lo)
        return held[lo:hi].copy()

    def drop_before(self, index: int) -> None:
        """Forget samples older than index."""
        self._compact()
        if not self._chunks or index <= self._first:
            return
        cut = min(index, self._end) - self._first
        self._chunks = [self._chunks[0][cut:]]
        self._first += cut

    def _compact(self) -> None:
        if len(self._chunks) > 1:
            self._chunks = [np.concatenate(self._chunks)]
