"""Where translation models live under the translation directory."""

from __future__ import annotations

from pathlib import Path

# The Argos package index argostranslate itself uses.
DEFAULT_INDEX_URL = "https://raw.githubusercontent.com/argosopentech/argospm-index/main/index.json"


def argos_dir(translation_dir: Path) -> Path:
    """Installed Argos packs (argostranslate's ARGOS_PACKAGES_DIR)."""
    return translation_dir / "argos"


def multilingual_dir(translation_dir: Path) -> Path:
    """Installed multilingual models, one directory each."""
    return translation_dir / "multilingual"


def index_cache(translation_dir: Path) -> Path:
    """The last downloaded package index (argostranslate's local index)."""
    return translation_dir / "argos-index.json"
