"""openai-whisper (PyTorch) engine, on CPU or GPU."""

from __future__ import annotations

import base64
import gc
import gzip
import warnings
from pathlib import Path
from typing import Any, Self

import numpy as np
import torch
import whisper
import whisper.model
import whisper.tokenizer
from torch import nn
from torch.nn import functional

from media.speech.audio import FloatAudio, seconds
from media.speech.config import EngineConfig
from media.speech.engines.base import SpeechEngine
from media.speech.engines.window import token_budget
from media.speech.errors import ModelNotFoundError
from media.speech.models.paths import resolve_openai_checkpoint
from media.speech.transcript import Segment, Transcript


class WindowedAudioEncoder(nn.Module):
    """openai-whisper's audio encoder, accepting mel windows shorter than 30 s.

    The stock encoder asserts 3000 frames; this one encodes the first ``window_frames``
    frames (when set) with the positional embedding sliced to the resulting length.
    """

    def __init__(self, encoder: nn.Module) -> None:
        super().__init__()
        self.inner = encoder
        self.window_frames: int | None = None

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        inner: Any = self.inner
        if self.window_frames is not None:
            mel = mel[..., : self.window_frames]
        x = functional.gelu(inner.conv1(mel))
        x = functional.gelu(inner.conv2(x))
        x = x.permute(0, 2, 1)
        x = (x + inner.positional_embedding[: x.shape[1]]).to(x.dtype)
        for block in inner.blocks:
            x = block(x)
        result: torch.Tensor = inner.ln_post(x)
        return result


class OpenAIWhisperEngine(SpeechEngine):
    def __init__(self, config: EngineConfig, model: Any) -> None:
        super().__init__(config)
        self._model = model
        self._encoder = WindowedAudioEncoder(model.encoder)
        model.encoder = self._encoder

    @classmethod
    def load(cls, config: EngineConfig) -> Self:
        if config.device == "cpu" and config.cpu_threads > 0:
            torch.set_num_threads(config.cpu_threads)  # process-wide in PyTorch
        checkpoint = resolve_openai_checkpoint(config.model, config.models_dir)
        try:
            if Path(checkpoint).is_file():
                model = _load_checkpoint(Path(checkpoint), config.device)
            else:
                root = str(config.models_dir) if config.models_dir else None
                model = whisper.load_model(checkpoint, device=config.device, download_root=root)
        except (RuntimeError, OSError, KeyError) as error:
            raise ModelNotFoundError(
                f"cannot load openai-whisper model {checkpoint!r}: {error}"
            ) from error
        _load_tokenizer(model)
        return cls(config, model)

    @property
    def multilingual(self) -> bool:
        return bool(self._model.is_multilingual)

    def _transcribe(
        self,
        audio: FloatAudio,
        language: str | None,
        *,
        beam_size: int,
        task: str,
        window: int | None,
    ) -> Transcript:
        self._encoder.window_frames = window
        try:
            with torch.inference_mode():
                language, probability = self._language(audio, language)
                result = whisper.transcribe(
                    self._model,
                    audio,
                    language=language,
                    task=task,
                    beam_size=beam_size if beam_size > 1 else None,  # 1: greedy decoder
                    temperature=0.0,
                    condition_on_previous_text=False,
                    fp16=self.config.device != "cpu",
                    verbose=None,
                    sample_len=None if window is None else token_budget(seconds(audio.size)),
                )
        finally:
            self._encoder.window_frames = None
        segments = tuple(
            Segment(float(s["start"]), float(s["end"]), str(s["text"]), s["compression_ratio"])
            for s in result["segments"]
        )
        return Transcript.from_segments(
            segments,
            language=language,
            language_probability=probability,
            duration=seconds(audio.size),
        )

    def _language(self, audio: FloatAudio, language: str | None) -> tuple[str, float]:
        if language is not None:
            return language, 1.0
        if not self._model.is_multilingual:
            return "en", 1.0
        mel = whisper.log_mel_spectrogram(whisper.pad_or_trim(audio), self._model.dims.n_mels).to(
            self._model.device
        )
        _, probabilities = self._model.detect_language(mel)
        best = max(probabilities, key=probabilities.get)
        return str(best), float(probabilities[best])


def _load_tokenizer(model: Any) -> None:
    """Build openai-whisper's (cached) tokenizer now: it reads its vocabulary with an
    unclosed ``open``, whose ResourceWarning is silenced here rather than at first use."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        whisper.tokenizer.get_tokenizer(model.is_multilingual, num_languages=model.num_languages)
        gc.collect()


def _load_checkpoint(path: Path, device: str) -> Any:
    """What ``whisper.load_model`` does for a file, plus the alignment heads our converter
    stores in the checkpoint (word timestamps need them)."""
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    model = whisper.model.Whisper(whisper.model.ModelDimensions(**checkpoint["dims"]))
    model.load_state_dict(checkpoint["model_state_dict"])
    heads = checkpoint.get("alignment_heads")
    if heads:
        model.set_alignment_heads(_encode_heads(heads, model.dims))
    return model.to(device)


def _encode_heads(heads: list[list[int]], dims: Any) -> bytes:
    """openai-whisper's alignment-head format: a base85, gzipped boolean layer x head mask."""
    mask = np.zeros((dims.n_text_layer, dims.n_text_head), dtype=bool)
    for layer, head in heads:
        mask[layer, head] = True
    return base64.b85encode(gzip.compress(mask.tobytes()))
