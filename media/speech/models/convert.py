"""Converting CTranslate2 Whisper weights into a real openai-whisper checkpoint."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import numpy.typing as npt

from media.speech.errors import ModelFormatError
from media.speech.models.ct2_format import Ct2Model, read_ct2_model
from media.speech.models.progress import (
    InstallProgress,
    InstallStep,
    ProgressCallback,
    ignore_progress,
)

Array = npt.NDArray[np.generic]
StateDict = dict[str, Array]
_FLOATS = (np.float16, np.float32)


def convert_to_openai(
    ct2_model_dir: Path, out_path: Path, progress: ProgressCallback = ignore_progress
) -> Path:
    """Write ``out_path`` (``dims``, ``model_state_dict``, ``alignment_heads``) for
    ``whisper.load_model``, from ``ct2_model_dir/model.bin`` and its ``config.json``."""
    import torch

    model = read_ct2_model(ct2_model_dir / "model.bin")
    if model.spec != "WhisperSpec":
        raise ModelFormatError(f"{ct2_model_dir} holds a {model.spec}, not a Whisper model")
    dims = model_dims(model)
    state = openai_state_dict(model, dims["n_audio_layer"], dims["n_text_layer"])
    tensors = {}
    for index, (name, array) in enumerate(state.items(), 1):
        tensors[name] = torch.from_numpy(np.array(array, copy=True))
        progress(InstallProgress(InstallStep.CONVERT, out_path.name, index, len(state)))
    checkpoint = {
        "dims": dims,
        "model_state_dict": tensors,
        "alignment_heads": _alignment_heads(ct2_model_dir),
    }
    out_path.parent.mkdir(parents=True, exist_ok=True)
    partial = out_path.with_name(out_path.name + ".partial")
    torch.save(checkpoint, partial)
    partial.replace(out_path)
    return out_path


def model_dims(model: Ct2Model) -> dict[str, int]:
    """openai-whisper's ``ModelDimensions`` read off the variable shapes."""
    conv1 = model.get("encoder/conv1/weight")
    audio_positions = model.get("encoder/position_encodings/encodings")
    embeddings = model.get("decoder/embeddings/weight")
    text_positions = model.get("decoder/position_encodings/encodings")
    return {
        "n_mels": conv1.shape[1],
        "n_audio_ctx": audio_positions.shape[0],
        "n_audio_state": audio_positions.shape[1],
        "n_audio_head": model.scalar("encoder/num_heads"),
        "n_audio_layer": _count_layers(model, "encoder"),
        "n_vocab": embeddings.shape[0],
        "n_text_ctx": text_positions.shape[0],
        "n_text_state": text_positions.shape[1],
        "n_text_head": model.scalar("decoder/num_heads"),
        "n_text_layer": _count_layers(model, "decoder"),
    }


def openai_state_dict(model: Ct2Model, audio_layers: int, text_layers: int) -> StateDict:
    """Map CTranslate2 names onto openai-whisper's, splitting the fused projections."""
    get = model.get
    state: StateDict = {
        "encoder.conv1.weight": get("encoder/conv1/weight"),
        "encoder.conv1.bias": get("encoder/conv1/bias"),
        "encoder.conv2.weight": get("encoder/conv2/weight"),
        "encoder.conv2.bias": get("encoder/conv2/bias"),
        "encoder.positional_embedding": get("encoder/position_encodings/encodings"),
        "decoder.token_embedding.weight": get("decoder/embeddings/weight"),
        "decoder.positional_embedding": get("decoder/position_encodings/encodings"),
    }
    state |= _layer_norm(model, "encoder/layer_norm", "encoder.ln_post")
    state |= _layer_norm(model, "decoder/layer_norm", "decoder.ln")
    for i in range(audio_layers):
        state |= _block(model, f"encoder/layer_{i}", f"encoder.blocks.{i}", cross=False)
    for i in range(text_layers):
        state |= _block(model, f"decoder/layer_{i}", f"decoder.blocks.{i}", cross=True)
    for name, array in state.items():
        if array.dtype not in _FLOATS:
            raise ModelFormatError(f"{name} is {array.dtype}: only float weights can be converted")
    return state


def _block(model: Ct2Model, src: str, dst: str, *, cross: bool) -> StateDict:
    state = _fused_attention(
        model, f"{src}/self_attention", f"{dst}.attn", ("query", "key", "value")
    )
    state |= _linear(model, f"{src}/self_attention/linear_1", f"{dst}.attn.out")
    state |= _layer_norm(model, f"{src}/self_attention/layer_norm", f"{dst}.attn_ln")
    if cross:
        state |= _linear(model, f"{src}/attention/linear_0", f"{dst}.cross_attn.query")
        state |= _fused_attention(
            model, f"{src}/attention", f"{dst}.cross_attn", ("key", "value"), fused="linear_1"
        )
        state |= _linear(model, f"{src}/attention/linear_2", f"{dst}.cross_attn.out")
        state |= _layer_norm(model, f"{src}/attention/layer_norm", f"{dst}.cross_attn_ln")
    state |= _linear(model, f"{src}/ffn/linear_0", f"{dst}.mlp.0")
    state |= _linear(model, f"{src}/ffn/linear_1", f"{dst}.mlp.2")
    state |= _layer_norm(model, f"{src}/ffn/layer_norm", f"{dst}.mlp_ln")
    return state


def _fused_attention(
    model: Ct2Model, src: str, dst: str, parts: tuple[str, ...], fused: str = "linear_0"
) -> StateDict:
    """Split a fused projection; the key projection has no bias in openai-whisper (a constant
    key bias shifts every attention logit of a query equally, so dropping it changes nothing)."""
    weights = np.split(model.get(f"{src}/{fused}/weight"), len(parts))
    biases = np.split(model.get(f"{src}/{fused}/bias"), len(parts))
    state: StateDict = {}
    for part, weight, bias in zip(parts, weights, biases, strict=True):
        state[f"{dst}.{part}.weight"] = weight
        if part != "key":
            state[f"{dst}.{part}.bias"] = bias
    return state


def _linear(model: Ct2Model, src: str, dst: str) -> StateDict:
    return {f"{dst}.weight": model.get(f"{src}/weight"), f"{dst}.bias": model.get(f"{src}/bias")}


def _layer_norm(model: Ct2Model, src: str, dst: str) -> StateDict:
    return {f"{dst}.weight": model.get(f"{src}/gamma"), f"{dst}.bias": model.get(f"{src}/beta")}


def _count_layers(model: Ct2Model, stack: str) -> int:
    count = 0
    while f"{stack}/layer_{count}/ffn/linear_0/weight" in model.variables:
        count += 1
    return count


def _alignment_heads(ct2_model_dir: Path) -> list[list[int]]:
    config_file = ct2_model_dir / "config.json"
    if not config_file.is_file():
        return []
    heads = json.loads(config_file.read_text()).get("alignment_heads", [])
    return [[int(layer), int(head)] for layer, head in heads]
