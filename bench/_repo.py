"""Import first in every benchmark: puts the repository root first on sys.path, `bench/` last.

Run as a script (``python bench/NAME.py``), a benchmark's own folder comes first on sys.path,
where `bench/media.py` would shadow the `media` package; last, it still serves the benchmarks'
shared modules (`_serve`).
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != HERE] + [str(HERE)]
