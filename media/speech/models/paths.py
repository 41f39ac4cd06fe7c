"""Where installed models live and how a configured model name resolves to files."""

from __future__ import annotations

from pathlib import Path

from media.speech.errors import ModelNotFoundError
from media.speech.models.catalog import canonical_name

CT2_FILES = ("model.bin", "config.json", "tokenizer.json")
OPENAI_CHECKPOINT = "openai-whisper.pt"
MANIFEST = "counsel-model.json"


def model_dir(name: str, models_dir: Path) -> Path:
    """The directory a model of this name is (or would be) installed in."""
    return models_dir / canonical_name(name)


def is_ct2_model(path: Path) -> bool:
    return all((path / f).is_file() for f in CT2_FILES)


def resolve_ct2_model(model: str, models_dir: Path | None) -> str:
    """A CTranslate2 model directory, or the name itself for faster-whisper's hub download."""
    given = Path(model).expanduser()
    if given.is_dir():
        return str(given)
    if models_dir is not None and is_ct2_model(model_dir(model, models_dir)):
        return str(model_dir(model, models_dir))
    return model


def resolve_openai_checkpoint(model: str, models_dir: Path | None) -> str:
    """An openai-whisper checkpoint file, or the name itself for openai-whisper's download."""
    candidates = [Path(model).expanduser()]
    if models_dir is not None:
        candidates.append(model_dir(model, models_dir))
    for path in candidates:
        if path.is_file():
            return str(path)
        if (path / OPENAI_CHECKPOINT).is_file():
            return str(path / OPENAI_CHECKPOINT)
        if is_ct2_model(path):
            raise ModelNotFoundError(
                f"{path} holds CTranslate2 weights only; convert them first "
                f"(counsel-room models convert {canonical_name(model)} --to openai)"
            )
    return model
