"""Whisper engines behind one interface; ``load_engine`` picks one from the config."""

from __future__ import annotations

from media.speech.config import EngineConfig, EngineKind
from media.speech.engines.base import SpeechEngine


def load_engine(config: EngineConfig) -> SpeechEngine:
    """Load the configured engine once; call from a worker thread or at startup (it blocks)."""
    if config.engine is EngineKind.OPENAI_WHISPER:
        from media.speech.engines.openai_whisper import OpenAIWhisperEngine

        return OpenAIWhisperEngine.load(config)
    from media.speech.engines.ctranslate import FasterWhisperEngine

    return FasterWhisperEngine.load(config)


__all__ = ["EngineConfig", "EngineKind", "SpeechEngine", "load_engine"]
