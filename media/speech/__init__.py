"""Speech recognition: Whisper engines, Silero VAD, streaming captions, model management.

Heavy libraries (faster-whisper, torch) load only when an engine of that kind is loaded.
"""

from media.speech.config import EngineConfig, EngineKind
from media.speech.engines import SpeechEngine, load_engine
from media.speech.errors import (
    EngineClosedError,
    ModelFormatError,
    ModelInstallError,
    ModelNotFoundError,
    SpeechError,
)
from media.speech.events import CaptionEvent, CaptionKind
from media.speech.recognizer import AsyncRecognizer
from media.speech.streaming import StreamingConfig, StreamingRecognizer
from media.speech.transcript import Segment, Transcript
from media.speech.vad import SileroVad, StreamingVad, VadConfig, VadEvent, VadEventKind

__all__ = [
    "AsyncRecognizer",
    "CaptionEvent",
    "CaptionKind",
    "EngineClosedError",
    "EngineConfig",
    "EngineKind",
    "ModelFormatError",
    "ModelInstallError",
    "ModelNotFoundError",
    "Segment",
    "SileroVad",
    "SpeechEngine",
    "SpeechError",
    "StreamingConfig",
    "StreamingRecognizer",
    "StreamingVad",
    "Transcript",
    "VadConfig",
    "VadEvent",
    "VadEventKind",
    "load_engine",
]
