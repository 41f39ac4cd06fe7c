"""The one interface every Whisper engine implements."""

from __future__ import annotations

import asyncio
import functools
import threading
from abc import ABC, abstractmethod
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Self

import numpy as np
import numpy.typing as npt

from media.speech.audio import FloatAudio, seconds, to_float32
from media.speech.config import EngineConfig
from media.speech.engines.window import window_frames
from media.speech.errors import EngineClosedError
from media.speech.transcript import Transcript

MAX_COMPRESSION_RATIO = 2.4  # Whisper's own threshold for repetitive output
_END_SLACK_S = 0.05


def looks_degenerate(result: Transcript) -> bool:
    """Signs that a trimmed-window decode went wrong: text repeating itself, or a segment
    starting where the audio has already ended (the decoder ran on past the speech)."""
    return any(
        s.compression_ratio > MAX_COMPRESSION_RATIO or s.start >= result.duration - _END_SLACK_S
        for s in result.segments
    )


class SpeechEngine(ABC):
    """A Whisper model loaded once; its inference runs on one worker thread of its own.

    With ``trim_window`` the encoder sees a mel window of the audio's length plus a margin; a
    result that ``looks_degenerate`` is recomputed on the normal 30-s window
    (``window_fallbacks`` counts those).
    ``transcribe`` blocks; ``transcribe_async`` runs it on the engine's worker thread so the
    event loop stays free. ``pending`` counts async jobs not finished yet, so callers can
    skip optional work (partial captions) instead of building a backlog.
    """

    def __init__(self, config: EngineConfig) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._pending_lock = threading.Lock()
        self._pending = 0
        self._closed = False
        self.window_fallbacks = 0
        self._executor = ThreadPoolExecutor(1, thread_name_prefix=f"asr-{config.engine.value}")

    @classmethod
    @abstractmethod
    def load(cls, config: EngineConfig) -> Self:
        """Load the model named by the config."""

    @property
    def pending(self) -> int:
        return self._pending

    def transcribe(
        self,
        audio: npt.NDArray[np.generic],
        language: str | None = None,
        *,
        beam_size: int | None = None,
        task: str = "transcribe",
        trim_window: bool | None = None,
    ) -> Transcript:
        """Recognize 16 kHz mono audio; ``language=None`` detects it."""
        samples = to_float32(audio)
        duration = seconds(samples.size)
        if samples.size == 0:
            return Transcript.from_segments(
                (), language=language or "", language_probability=0.0, duration=0.0
            )
        window = self._window(duration, trim_window)
        run = functools.partial(
            self._transcribe,
            samples,
            language,
            beam_size=beam_size or self.config.beam_size,
            task=task,
        )
        with self._lock:
            result = run(window=window)
            if window is not None and looks_degenerate(result):
                self.window_fallbacks += 1
                result = run(window=None)
        return result

    async def transcribe_async(
        self,
        audio: npt.NDArray[np.generic],
        language: str | None = None,
        *,
        beam_size: int | None = None,
        task: str = "transcribe",
        trim_window: bool | None = None,
    ) -> Transcript:
        """``transcribe`` on the engine's worker thread."""
        call = functools.partial(
            self.transcribe,
            audio,
            language,
            beam_size=beam_size,
            task=task,
            trim_window=trim_window,
        )
        return await asyncio.wrap_future(self._submit(call))

    def close(self) -> None:
        """Stop accepting work, drop queued jobs and wait for the running one."""
        self._closed = True
        self._executor.shutdown(wait=True, cancel_futures=True)

    def _submit(self, call: functools.partial[Transcript]) -> Future[Transcript]:
        if self._closed:
            raise EngineClosedError("the speech engine is closed")
        self._change_pending(1)
        future = self._executor.submit(call)
        future.add_done_callback(lambda _: self._change_pending(-1))
        return future

    def _change_pending(self, delta: int) -> None:
        with self._pending_lock:
            self._pending += delta

    def _window(self, duration: float, trim_window: bool | None) -> int | None:
        trim = self.config.trim_window if trim_window is None else trim_window
        if not trim:
            return None
        return window_frames(
            duration,
            margin_s=self.config.window_margin_s,
            max_trimmed_s=self.config.max_trimmed_s,
        )

    @abstractmethod
    def _transcribe(
        self,
        audio: FloatAudio,
        language: str | None,
        *,
        beam_size: int,
        task: str,
        window: int | None,
    ) -> Transcript:
        """Run the model; ``window`` is the mel frames to encode, None for Whisper's 30 s."""
