"""Choosing the mel window: the utterance length rounded up plus a margin, or Whisper's 30 s."""

from __future__ import annotations

import math

FRAMES_PER_SECOND = 100
FULL_WINDOW_FRAMES = 3000


def window_frames(duration_s: float, *, margin_s: float, max_trimmed_s: float) -> int | None:
    """Mel frames to encode for audio of this duration, or None for the normal 30-s path."""
    if duration_s > max_trimmed_s:
        return None
    seconds = math.ceil(duration_s + margin_s)
    return min(seconds * FRAMES_PER_SECOND, FULL_WINDOW_FRAMES)


TOKENS_PER_SECOND = 15  # well above speech in any language (~3-8 text tokens a second)
TOKEN_SLACK = 20
MAX_NEW_TOKENS = 224  # openai-whisper's own limit per window (half the text context)


def token_budget(duration_s: float) -> int:
    """New tokens a trimmed-window decode may produce: bounds the cost of a decoder stuck
    repeating itself (whose output is then recomputed on the 30-s window) without cutting
    real speech short."""
    return min(TOKEN_SLACK + math.ceil(duration_s * TOKENS_PER_SECOND), MAX_NEW_TOKENS)
