"""Import first in every benchmark: puts the repository root on sys.path in place of `bench/`.

Run as a script (``python bench/NAME.py``), a benchmark's own folder comes first on sys.path,
where `bench/media.py` would shadow the `media` package.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(ROOT))
