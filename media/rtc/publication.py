"""One participant's received track, fanned out as encoded frames to the other participants.

The frames come from the receiver's jitter buffer on the event loop (`_aiortc.tap_encoded_frames`)
and are handed to every subscribed `ForwardingTrack` at once: no decode, no re-encode, no queue of
its own. Audio is also decoded once, into the speaker's `AudioTap`, which ends when the
publication closes. Keyframe requests from viewers are merged and rate-limited before they reach
the publisher as a PLI.
"""

from __future__ import annotations

import time
from typing import Any

from media.rtc import _aiortc
from media.rtc._aiortc import EncodedFrame
from media.rtc.forwarding import ForwardingTrack
from media.rtc.kinds import MediaKind, is_keyframe
from media.rtc.tap import AudioTap, TapDecoder
from media.rtc.tasks import TaskSet


class Publication:
    def __init__(
        self,
        participant_id: str,
        kind: MediaKind,
        mid: str,
        receiver: Any,
        *,
        keyframe_interval_s: float,
        tap_maxlen: int,
    ) -> None:
        self.participant_id = participant_id
        self.kind = kind
        self.mid = mid
        self.channel: str | None = None
        """The language channel this (interpreter's audio) publication is routed to, if any;
        kept by the router."""
        self.frames_received = 0
        self.keyframes_received = 0
        self.keyframe_requests_sent = 0
        self.tap: AudioTap | None = None
        self._tap_decoder: TapDecoder | None = None
        if kind is MediaKind.AUDIO:
            self.tap = AudioTap(participant_id, tap_maxlen)
            self._tap_decoder = TapDecoder(participant_id)
        self._receiver = receiver
        self._subscribers: set[ForwardingTrack] = set()
        self._tasks = TaskSet()
        self._keyframe_interval_s = keyframe_interval_s
        self._last_request = -keyframe_interval_s
        self._request_pending = False
        self._closed = False
        # aiortc's decoder thread gets nothing: its track stays empty and needs no consumer
        _aiortc.tap_encoded_frames(receiver, self._on_frame, decode=False)

    @property
    def key(self) -> str:
        return f"{self.participant_id}/{self.mid}"

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    @property
    def task_count(self) -> int:
        return len(self._tasks)

    def subscribe(self, track: ForwardingTrack) -> None:
        if not self._closed:
            self._subscribers.add(track)

    def unsubscribe(self, track: ForwardingTrack) -> None:
        self._subscribers.discard(track)

    def request_keyframe(self) -> None:
        if self.kind is not MediaKind.VIDEO or self._closed:
            return
        now = time.monotonic()
        if now - self._last_request < self._keyframe_interval_s:
            self._request_pending = True  # sent with the next delta frame after the interval
            return
        self._last_request = now
        self._request_pending = False
        self.keyframe_requests_sent += 1
        self._tasks.spawn(self._send_picture_loss(), f"pli:{self.key}")

    async def _send_picture_loss(self) -> None:
        if not await _aiortc.send_picture_loss(self._receiver):
            self._request_pending = True  # nothing received yet: ask again when frames arrive

    def _on_frame(self, frame: EncodedFrame) -> None:
        keyframe = is_keyframe(frame.mime_type, frame.data)
        self.frames_received += 1
        if keyframe and self.kind is MediaKind.VIDEO:
            self.keyframes_received += 1
            self._request_pending = False
        elif self._request_pending:
            self.request_keyframe()
        for track in list(self._subscribers):
            track.push(frame, keyframe)
        if self.tap is not None and self.tap.listening and self._tap_decoder is not None:
            for pcm in self._tap_decoder.decode(frame):
                self.tap.push(pcm)

    async def close(self) -> None:
        self._closed = True
        for track in list(self._subscribers):
            track.detach()
        await self._tasks.cancel_all()
        if self.tap is not None:
            self.tap.close()
