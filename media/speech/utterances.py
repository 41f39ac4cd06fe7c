"""The audio of one speaker cut into utterances by the VAD, shared by reader and recognizer."""

from __future__ import annotations

import asyncio
import uuid
from collections import deque
from dataclasses import dataclass

from media.speech.audio import FloatAudio, SampleBuffer, samples_of
from media.speech.vad import WINDOW, VadConfig, VadEvent, VadEventKind


@dataclass(slots=True)
class Utterance:
    """Speech from ``start`` to ``end`` (sample indices; ``end`` None while it grows).

    ``id`` names the utterance wherever its captions go (made when the VAD opens it, unique
    across streams and nodes); ``rev`` counts the captions sent about it."""

    index: int
    start: int
    id: str = ""
    end: int | None = None
    rev: int = 0
    recognized_to: int = 0  # audio end of the latest partial recognition
    partials: int = 0
    pause_from: int | None = None  # where the speaker's current pause began, while it lasts


class UtteranceTracker:
    """Keeps the audio that open or finished utterances still need, and their boundaries."""

    def __init__(self, vad: VadConfig) -> None:
        self.buffer = SampleBuffer()
        self.current: Utterance | None = None
        self.finished: deque[Utterance] = deque()
        self.closed = False
        self.changed = asyncio.Event()
        self._pad = samples_of(vad.speech_pad_ms / 1000)
        self._lookback = self._pad + samples_of(vad.min_speech_ms / 1000) + 2 * WINDOW
        self._count = 0

    def add_audio(self, samples: FloatAudio) -> None:
        self.buffer.append(samples)

    def apply(self, event: VadEvent) -> None:
        if event.kind is VadEventKind.SPEECH_START:
            self.current = Utterance(self._count, event.sample, uuid.uuid4().hex)
            self._count += 1
        elif self.current is not None:
            self.current.end = min(event.sample, self.buffer.end)
            self.finished.append(self.current)
            self.current = None

    def set_pause(self, start: int | None) -> None:
        """The VAD's pause in the open utterance (None: the speaker is talking)."""
        if self.current is not None:
            self.current.pause_from = start

    @property
    def pad(self) -> int:
        """Samples of padding kept on both sides of an utterance's speech."""
        return self._pad

    def audio_of(self, utterance: Utterance, end: int | None = None) -> FloatAudio:
        """The utterance's samples with the VAD padding on both sides; ``end`` reads an open
        utterance as if its speech ended there."""
        end = utterance.end if end is None else end
        stop = self.buffer.end if end is None else end + self._pad
        return self.buffer.slice(utterance.start - self._pad, stop)

    def forget_old_audio(self) -> None:
        starts = [u.start for u in (*self.finished, self.current) if u is not None]
        keep_from = min(starts) - self._pad if starts else self.buffer.end - self._lookback
        self.buffer.drop_before(keep_from)

    def close(self) -> None:
        self.closed = True
        self.changed.set()

    @property
    def done(self) -> bool:
        return self.closed and self.current is None and not self.finished
