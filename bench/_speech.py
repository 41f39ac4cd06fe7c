"""Speech for the benchmarks that talk to a live room (captions, translation): espeak-ng clips
trimmed to their speech, a speaker's whole track (silences and utterances, with where each lies),
and `SpeechTrack`, the aiortc track that plays it in real time and records when each 20-ms frame
was handed to the sender (end of speech is read from there)."""

from __future__ import annotations

import asyncio
import fractions
import math
import random
import subprocess
import time
import wave
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

RATE = 16_000
FRAME = 320  # 20 ms
SPEECH_LEVEL = 328  # -40 dBFS: samples above it are speech

Pcm = npt.NDArray[np.int16]


@dataclass(frozen=True)
class Clip:
    text: str
    voice: str
    speed: int
    samples: Pcm

    @property
    def seconds(self) -> float:
        return self.samples.size / RATE


def synthesize(text: str, voice: str, speed: int, workdir: Path) -> Clip:
    """espeak-ng speech at 16 kHz, cut to its first and last sample above -40 dBFS."""
    raw, out = workdir / "raw.wav", workdir / "clip.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(raw), text],
                   check=True, capture_output=True)
    subprocess.run(["sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(out)],
                   check=True, capture_output=True)
    with wave.open(str(out)) as wav:
        samples = np.frombuffer(wav.readframes(wav.getnframes()), np.int16)
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > SPEECH_LEVEL)
    return Clip(text, voice, speed, samples[loud[0]:loud[-1] + 1].copy())



@dataclass(frozen=True)
class Spoken:
    text: str
    start: int
    """Sample index of the first speech sample in the speaker's track."""
    end: int
    """One past the last speech sample."""


@dataclass
class Program:
    """One speaker's whole track: silences and utterances, with where each utterance lies."""

    audio: Pcm
    spoken: list[Spoken]


def program(clips: list[Clip], lead_s: float, gaps: tuple[float, float], rng: random.Random,
            tail_s: float = 2.0) -> Program:
    parts: list[Pcm] = [np.zeros(round(lead_s * RATE), np.int16)]
    at = parts[0].size
    spoken = []
    for i, clip in enumerate(clips):
        if i:
            gap = np.zeros(round(rng.uniform(*gaps) * RATE), np.int16)
            parts.append(gap)
            at += gap.size
        parts.append(clip.samples)
        spoken.append(Spoken(clip.text, at, at + clip.samples.size))
        at += clip.samples.size
    parts.append(np.zeros(round(tail_s * RATE), np.int16))
    return Program(np.concatenate(parts), spoken)


class SpeechTrack(MediaStreamTrack):
    """The program paced in real time in 20-ms frames, then silence (an open microphone).
    `sent_at[k]` is when frame k was handed to the sender."""

    kind = "audio"

    def __init__(self, audio: Pcm) -> None:
        super().__init__()
        self.audio = audio
        self.sent_at: list[float] = []
        self._start: float | None = None

    @property
    def frames(self) -> int:
        return math.ceil(self.audio.size / FRAME)

    @property
    def done(self) -> bool:
        return len(self.sent_at) >= self.frames

    def time_of(self, sample: int) -> float:
        """When the frame holding this sample was sent (extrapolated for frames not sent)."""
        frame = max(sample, 0) // FRAME
        if frame < len(self.sent_at):
            return self.sent_at[frame]
        assert self._start is not None
        return self._start + frame * FRAME / RATE

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        index = len(self.sent_at)
        if self._start is None:
            self._start = time.monotonic()
        await asyncio.sleep(max(self._start + index * FRAME / RATE - time.monotonic(), 0))
        chunk = np.zeros(FRAME, np.int16)
        piece = self.audio[index * FRAME:(index + 1) * FRAME]
        chunk[:piece.size] = piece
        frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = RATE
        frame.pts = index * FRAME
        frame.time_base = fractions.Fraction(1, RATE)
        self.sent_at.append(time.monotonic())
        return frame
