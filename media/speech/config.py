"""Plain settings of a speech engine; the server's settings fill it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path


class EngineKind(StrEnum):
    FASTER_WHISPER = "faster-whisper"
    OPENAI_WHISPER = "openai-whisper"


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """How to load and run a Whisper engine.

    ``model`` is an installed model name (looked up in ``models_dir``), a model directory or
    checkpoint path, or a name the engine's own hub download knows.
    ``trim_window`` makes recognition cost follow the speech length: audio up to
    ``max_trimmed_s`` is encoded in a mel window of its length plus ``window_margin_s``
    rounded up to a whole second, instead of Whisper's 30-s window (a 3-s margin kept the
    word error rate of espeak-ng test speech at or below the 30-s window's; 1 s did not).
    """

    engine: EngineKind = EngineKind.FASTER_WHISPER
    model: str = "tiny.en"
    models_dir: Path | None = None
    device: str = "cpu"
    compute_type: str = "int8"
    beam_size: int = 5
    cpu_threads: int = 2
    trim_window: bool = True
    window_margin_s: float = 3.0
    max_trimmed_s: float = 28.0
