"""Settings of the media core, filled in by the server from its own settings class."""

from __future__ import annotations

from dataclasses import dataclass, field

from media.rtc.ice import IceConfig


@dataclass(frozen=True, slots=True)
class MediaConfig:
    ice: IceConfig = field(default_factory=IceConfig)
    ice_timeout_s: float = 20.0
    """A peer not connected (ICE and DTLS) this long after it was added is dropped."""
    keyframe_interval_s: float = 0.3
    """At most one PLI per publisher per interval; requests in between are merged."""
    tap_maxlen: int = 250
    """Frames (20 ms each) an audio tap keeps before it drops the oldest."""
    video_queue_frames: int = 30
    audio_queue_frames: int = 50

    def __post_init__(self) -> None:
        if self.ice_timeout_s <= 0 or self.keyframe_interval_s < 0:
            raise ValueError("timeouts must be positive")
        if min(self.tap_maxlen, self.video_queue_frames, self.audio_queue_frames) < 1:
            raise ValueError("queue sizes must be at least 1")
