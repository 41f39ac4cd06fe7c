"""faster-whisper (CTranslate2) engine: int8 on CPU by default."""

from __future__ import annotations

from typing import Any, Self

from faster_whisper import WhisperModel

from media.speech.audio import FloatAudio, seconds
from media.speech.config import EngineConfig
from media.speech.engines.base import SpeechEngine
from media.speech.engines.window import token_budget
from media.speech.errors import ModelNotFoundError
from media.speech.models.paths import resolve_ct2_model
from media.speech.transcript import Segment, Transcript


class _WindowedWhisperModel(WhisperModel):  # type: ignore[misc]
    """A WhisperModel whose encoder sees only the first ``window_frames`` mel frames.

    faster-whisper pads every window's features to 3000 frames before ``encode``; when the
    audio fits a shorter window the padding is cut off here, so the encoder (and the decoder's
    cross-attention) work on the utterance's length. CTranslate2's encoder accepts any even
    number of frames up to 3000 and slices its position encodings to match.
    """

    window_frames: int | None = None

    def encode(self, features: Any) -> Any:
        if self.window_frames is not None:
            features = features[..., : self.window_frames]
        return super().encode(features)


class FasterWhisperEngine(SpeechEngine):
    def __init__(self, config: EngineConfig, model: _WindowedWhisperModel) -> None:
        super().__init__(config)
        self._model = model

    @classmethod
    def load(cls, config: EngineConfig) -> Self:
        path = resolve_ct2_model(config.model, config.models_dir)
        try:
            model = _WindowedWhisperModel(
                path,
                device=config.device,
                compute_type=config.compute_type,
                cpu_threads=config.cpu_threads,
                download_root=str(config.models_dir) if config.models_dir else None,
            )
        except (ValueError, OSError, RuntimeError) as error:
            raise ModelNotFoundError(
                f"cannot load faster-whisper model {path!r}: {error}"
            ) from error
        return cls(config, model)

    @property
    def multilingual(self) -> bool:
        return bool(self._model.model.is_multilingual)

    def _transcribe(
        self,
        audio: FloatAudio,
        language: str | None,
        *,
        beam_size: int,
        task: str,
        window: int | None,
    ) -> Transcript:
        self._model.window_frames = window
        try:
            segments, info = self._model.transcribe(
                audio,
                language=language,
                task=task,
                beam_size=beam_size,
                temperature=0.0,
                condition_on_previous_text=False,
                max_new_tokens=None if window is None else token_budget(seconds(audio.size)),
            )
            found = tuple(Segment(s.start, s.end, s.text, s.compression_ratio) for s in segments)
        finally:
            self._model.window_frames = None
        return Transcript.from_segments(
            found,
            language=info.language,
            language_probability=float(info.language_probability),
            duration=seconds(audio.size),
        )
