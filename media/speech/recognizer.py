"""What streaming recognition needs from a recognizer: a local engine or the worker pool."""

from __future__ import annotations

from typing import Protocol

import numpy as np
import numpy.typing as npt

from media.speech.transcript import Transcript


class AsyncRecognizer(Protocol):
    """``pending``: jobs submitted and not finished, so optional work can be skipped."""

    @property
    def pending(self) -> int: ...

    async def transcribe_async(
        self,
        audio: npt.NDArray[np.generic],
        language: str | None = None,
        *,
        beam_size: int | None = None,
        task: str = "transcribe",
    ) -> Transcript: ...
