"""Our record of an installed model (where from, checksum, licence), beside the model's files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

MANIFEST = "counsel-manifest.json"


def read_manifest(model_dir: Path) -> dict[str, Any]:
    """The manifest of ``model_dir``; empty when there is none or it is unreadable."""
    try:
        data = json.loads((model_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_manifest(model_dir: Path, **fields: Any) -> None:
    text = json.dumps(fields, indent=2, ensure_ascii=False, sort_keys=True)
    (model_dir / MANIFEST).write_text(text + "\n", encoding="utf-8")
