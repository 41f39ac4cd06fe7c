"""Silero VAD (the ONNX model that ships in faster-whisper) as a streaming speech detector."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from media.speech.audio import SAMPLE_RATE, FloatAudio, samples_of, seconds

WINDOW = 512  # samples per Silero window at 16 kHz (32 ms)
_CONTEXT = 64  # samples of the previous window the v6 model sees before each window
_STATE_SHAPE = (1, 1, 128)

Probabilities = npt.NDArray[np.float32]


def bundled_model_path() -> Path:
    """``silero_vad_v6.onnx`` from faster-whisper's assets."""
    from faster_whisper.utils import get_assets_path

    return Path(get_assets_path()) / "silero_vad_v6.onnx"


class SileroVad:
    """The Silero model, loaded once and shared; each audio stream keeps its own state."""

    def __init__(self, path: Path | None = None) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.inter_op_num_threads = 1
        options.intra_op_num_threads = 1
        options.log_severity_level = 4
        self._session: Any = onnxruntime.InferenceSession(
            str(path or bundled_model_path()),
            providers=["CPUExecutionProvider"],
            sess_options=options,
        )

    def stream(self) -> SileroStream:
        return SileroStream(self._session)


class SileroStream:
    """Speech probabilities of consecutive 512-sample windows of one audio stream."""

    def __init__(self, session: Any) -> None:
        self._session = session
        self._h = np.zeros(_STATE_SHAPE, np.float32)
        self._c = np.zeros(_STATE_SHAPE, np.float32)
        self._context = np.zeros(_CONTEXT, np.float32)
        self._leftover = np.zeros(0, np.float32)

    def probabilities(self, samples: FloatAudio) -> Probabilities:
        """Probabilities of every window completed by these samples (leftovers are kept)."""
        audio = np.concatenate([self._leftover, samples])
        count = audio.size // WINDOW
        self._leftover = audio[count * WINDOW :]
        if count == 0:
            return np.zeros(0, np.float32)
        windows = audio[: count * WINDOW].reshape(count, WINDOW)
        contexts = np.vstack([self._context, windows[:-1, -_CONTEXT:]])
        self._context = windows[-1, -_CONTEXT:].copy()
        batch = np.concatenate([contexts, windows], axis=1)
        probs, self._h, self._c = self._session.run(
            None, {"input": batch, "h": self._h, "c": self._c}
        )
        return np.asarray(probs, np.float32).reshape(count)


@dataclass(frozen=True, slots=True)
class VadConfig:
    """Speech is a run of windows at or above ``threshold``; it ends after ``min_silence_ms``
    below ``neg_threshold`` (default threshold - 0.15). Runs shorter than ``min_speech_ms`` are
    ignored. An utterance longer than ``split_after_s`` also ends at a pause of
    ``split_pause_ms``; one reaching ``max_speech_s`` is cut at its quietest window of the last
    second. ``speech_pad_ms`` is the audio a consumer keeps on both sides of the speech."""

    threshold: float = 0.5
    neg_threshold: float | None = None
    min_silence_ms: int = 500
    min_speech_ms: int = 250
    speech_pad_ms: int = 200
    split_after_s: float = 6.0
    split_pause_ms: int = 200
    max_speech_s: float = 12.0

    @property
    def silence_threshold(self) -> float:
        if self.neg_threshold is not None:
            return self.neg_threshold
        return max(self.threshold - 0.15, 0.01)


class VadEventKind(StrEnum):
    SPEECH_START = "speech_start"
    SPEECH_END = "speech_end"


@dataclass(frozen=True, slots=True)
class VadEvent:
    """Speech starts or ends at ``sample`` (absolute index in the stream)."""

    kind: VadEventKind
    sample: int

    @property
    def time(self) -> float:
        return seconds(self.sample)


class StreamingVad:
    """Feeds audio of any frame size through Silero and reports speech starts and ends."""

    def __init__(self, model: SileroVad, config: VadConfig | None = None) -> None:
        self.config = config or VadConfig()
        self._probabilities = model.stream()
        self._detector = _SpeechDetector(self.config)
        self._received = 0

    @property
    def in_speech(self) -> bool:
        return self._detector.speech_start is not None

    @property
    def pause_start(self) -> int | None:
        """While speech is open: where the current pause began (the sample a ``SPEECH_END``
        would report if the pause lasts), None while the speaker is talking."""
        if self._detector.speech_start is None:
            return None
        return self._detector.silence_start

    def accept(self, samples: FloatAudio) -> list[VadEvent]:
        self._received += samples.size
        return self._detector.feed(self._probabilities.probabilities(samples))

    def flush(self) -> list[VadEvent]:
        """End of stream: close an utterance still open at the last sample."""
        return self._detector.close(self._received)


class _SpeechDetector:
    """The start/end state machine over window probabilities."""

    def __init__(self, config: VadConfig) -> None:
        self._config = config
        self._window = 0
        self._candidate: int | None = None
        self.speech_start: int | None = None
        self.silence_start: int | None = None
        self._recent: deque[tuple[int, float]] = deque(maxlen=SAMPLE_RATE // WINDOW)

    def feed(self, probabilities: Probabilities) -> list[VadEvent]:
        events: list[VadEvent] = []
        for probability in probabilities.tolist():
            start = self._window * WINDOW
            self._window += 1
            self._recent.append((start, probability))
            if self.speech_start is None:
                events += self._while_silent(start, probability)
            else:
                events += self._while_speaking(start, probability)
        return events

    def close(self, end: int) -> list[VadEvent]:
        if self.speech_start is None:
            return []
        self.speech_start = None
        return [VadEvent(VadEventKind.SPEECH_END, end)]

    def _while_silent(self, start: int, probability: float) -> list[VadEvent]:
        config = self._config
        if probability >= config.threshold and self._candidate is None:
            self._candidate = start
        elif probability < config.silence_threshold:
            self._candidate = None
        if self._candidate is None:
            return []
        if start + WINDOW - self._candidate < samples_of(config.min_speech_ms / 1000):
            return []
        self.speech_start, self._candidate, self.silence_start = self._candidate, None, None
        return [VadEvent(VadEventKind.SPEECH_START, self.speech_start)]

    def _while_speaking(self, start: int, probability: float) -> list[VadEvent]:
        assert self.speech_start is not None
        config = self._config
        if probability >= config.threshold:
            self.silence_start = None
        elif probability < config.silence_threshold and self.silence_start is None:
            self.silence_start = start
        end = start + WINDOW
        if self.silence_start is not None and end - self.silence_start >= self._pause_needed():
            silence_start, self.speech_start = self.silence_start, None
            return [VadEvent(VadEventKind.SPEECH_END, silence_start)]
        if end - self.speech_start >= samples_of(config.max_speech_s):
            return self._cut()
        return []

    def _pause_needed(self) -> int:
        assert self.speech_start is not None
        spoken = self._window * WINDOW - self.speech_start
        if spoken >= samples_of(self._config.split_after_s):
            return samples_of(self._config.split_pause_ms / 1000)
        return samples_of(self._config.min_silence_ms / 1000)

    def _cut(self) -> list[VadEvent]:
        """Split an over-long utterance at the quietest window of the last second."""
        cut, _ = min(self._recent, key=lambda item: item[1])
        cut = max(cut, (self.speech_start or 0) + WINDOW)
        self.speech_start, self.silence_start = cut, None
        return [VadEvent(VadEventKind.SPEECH_END, cut), VadEvent(VadEventKind.SPEECH_START, cut)]
