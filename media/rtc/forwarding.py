"""The outgoing track of one forwarded stream: encoded frames in, `av.Packet`s out to a sender.

aiortc's `RTCRtpSender` packetizes `av.Packet`s without encoding them. A `ForwardingTrack` sits
on one server-side transceiver for the life of the peer; the publication it carries can change
(m-lines are recycled when participants leave and join), so it rebases timestamps to keep them
increasing. Video waits for a keyframe whenever it (re)starts or had to drop frames, and asks the
publisher for one.
"""

from __future__ import annotations

import asyncio
import fractions
import functools
import time
from collections import deque
from typing import Any, ClassVar, Protocol

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from media.rtc._aiortc import EncodedFrame
from media.rtc.kinds import MediaKind


@functools.cache
def _time_base(clock_rate: int) -> fractions.Fraction:
    return fractions.Fraction(1, clock_rate)


class FrameSource(Protocol):
    def subscribe(self, track: ForwardingTrack) -> None: ...
    def unsubscribe(self, track: ForwardingTrack) -> None: ...
    def request_keyframe(self) -> None: ...


class ForwardingTrack(MediaStreamTrack):
    forwarded_total: ClassVar[int] = 0
    """Packets every forwarding track of this process has handed to its sender."""

    def __init__(self, kind: MediaKind, maxlen: int) -> None:
        super().__init__()
        self.kind = kind.value
        self.frames_sent = 0
        self.frames_dropped = 0
        self._video = kind is MediaKind.VIDEO
        self._queue: deque[tuple[bytes, int, int]] = deque()
        self._maxlen = maxlen
        self._ready = asyncio.Event()
        self._source: FrameSource | None = None
        self._reading = False
        self._need_keyframe = True
        self._offset: int | None = None
        self._last: tuple[int, int, float] | None = None  # pts, clock rate, wall time

    @property
    def source(self) -> FrameSource | None:
        return self._source

    def attach(self, source: FrameSource) -> None:
        self.detach()
        self._source = source
        self._offset = None
        self._need_keyframe = self._video
        source.subscribe(self)
        if self._reading and self._video:
            source.request_keyframe()

    def detach(self) -> None:
        if self._source is not None:
            self._source.unsubscribe(self)
            self._source = None
        self._queue.clear()

    def request_keyframe(self) -> None:
        """A viewer lost the picture (PLI/FIR): pass the request on to the publisher."""
        if self._source is not None:
            self._source.request_keyframe()

    def push(self, frame: EncodedFrame, keyframe: bool) -> None:
        if not self._reading or self.readyState != "live":
            return
        if self._need_keyframe:
            if not keyframe:
                self.request_keyframe()
                return
            self._need_keyframe = False
        if len(self._queue) >= self._maxlen:
            self._drop_backlog()
            if self._video:
                return
        self._queue.append((frame.data, self._rebase(frame), frame.clock_rate))
        self._ready.set()

    def _drop_backlog(self) -> None:
        if self._video:  # the rest would not decode: start again at a keyframe
            self.frames_dropped += len(self._queue)
            self._queue.clear()
            self._need_keyframe = True
            self.request_keyframe()
        else:
            self.frames_dropped += 1
            self._queue.popleft()

    def _rebase(self, frame: EncodedFrame) -> int:
        now = time.monotonic()
        if self._offset is None:
            start = 0
            if self._last is not None:
                pts, rate, wall = self._last
                start = (pts * frame.clock_rate) // rate + int((now - wall) * frame.clock_rate) + 1
            self._offset = start - frame.timestamp
        pts = frame.timestamp + self._offset
        self._last = (pts, frame.clock_rate, now)
        return pts

    async def recv(self) -> av.Packet[Any]:
        if not self._reading:
            self._reading = True
            self.request_keyframe()
        while not self._queue:
            if self.readyState != "live":
                raise MediaStreamError
            self._ready.clear()
            await self._ready.wait()
        data, pts, clock_rate = self._queue.popleft()
        packet = av.Packet(data)
        packet.pts = pts
        packet.time_base = _time_base(clock_rate)
        self.frames_sent += 1
        ForwardingTrack.forwarded_total += 1
        return packet

    def stop(self) -> None:
        self.detach()
        super().stop()
        self._ready.set()
