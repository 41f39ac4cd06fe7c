"""The server-to-client side of one peer: which publications it forwards on which m-line.

Each forwarded publication gets a send-only transceiver carrying a `ForwardingTrack`. When a
publication goes away its transceiver turns inactive and is reused for the next publication of
the same kind, so the SDP never grows beyond the largest the room has been (aiortc cannot remove
m-lines). Changes are staged in `prepare` (before the server's offer) and take effect in
`commit` (once the client has answered), so media only flows on m-lines the client knows about.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from media.rtc import _aiortc
from media.rtc.forwarding import ForwardingTrack
from media.rtc.kinds import MediaKind, forwarded_codecs
from media.rtc.publication import Publication
from media.rtc.signals import TrackRoute


@dataclass(slots=True)
class _Slot:
    transceiver: Any
    track: ForwardingTrack
    kind: MediaKind
    assigned: Publication | None = None


class OutboundMedia:
    def __init__(self, pc: Any, *, video_maxlen: int, audio_maxlen: int) -> None:
        self._pc = pc
        self._maxlen = {MediaKind.VIDEO: video_maxlen, MediaKind.AUDIO: audio_maxlen}
        self._slots: list[_Slot] = []
        self._wanted: dict[str, Publication] = {}
        self.dirty = False

    def __len__(self) -> int:
        return len(self._slots)

    @property
    def forwarding(self) -> int:
        """How many publications currently flow to this peer."""
        return sum(1 for s in self._slots if s.track.source is not None)

    def wants(self, publication: Publication) -> bool:
        return self._wanted.get(publication.key) is publication

    def want(self, publication: Publication) -> bool:
        """Forward `publication` from the next offer on; False if it already was wanted."""
        if self.wants(publication):
            return False
        self._wanted[publication.key] = publication
        self.dirty = True
        return True

    def unwant(self, publication: Publication) -> None:
        if self._wanted.pop(publication.key, None) is not None:
            self.dirty = True
        for slot in self._slots:
            if slot.assigned is publication:
                slot.assigned = None
                slot.track.detach()
                self.dirty = True

    def prepare(self) -> None:
        """Assign wanted publications to m-lines and set directions, before the server offers."""
        for slot in self._slots:
            if slot.assigned is not None and not self.wants(slot.assigned):
                slot.assigned = None
                slot.track.detach()
        assigned = {s.assigned.key for s in self._slots if s.assigned is not None}
        for publication in self._wanted.values():
            if publication.key not in assigned:
                self._free_slot(publication.kind).assigned = publication
        for slot in self._slots:
            slot.transceiver.direction = "inactive" if slot.assigned is None else "sendonly"
            if slot.assigned is not None:
                _aiortc.set_stream_id(slot.transceiver.sender, slot.assigned.participant_id)
        self.dirty = False

    def _free_slot(self, kind: MediaKind) -> _Slot:
        for slot in self._slots:
            if slot.kind is kind and slot.assigned is None:
                return slot
        track = ForwardingTrack(kind, self._maxlen[kind])
        transceiver = self._pc.addTransceiver(track, direction="sendonly")
        transceiver.setCodecPreferences(forwarded_codecs(kind))
        _aiortc.on_keyframe_request(transceiver.sender, track.request_keyframe)
        slot = _Slot(transceiver, track, kind)
        self._slots.append(slot)
        return slot

    def commit(self) -> None:
        """The client answered: start forwarding on the m-lines it now expects."""
        for slot in self._slots:
            if slot.assigned is not None and slot.track.source is not slot.assigned:
                slot.track.attach(slot.assigned)

    def routes(self) -> tuple[TrackRoute, ...]:
        return tuple(
            TrackRoute(s.transceiver.mid, s.assigned.participant_id, s.kind, s.assigned.channel)
            for s in self._slots
            if s.assigned is not None
        )

    def close(self) -> None:
        self._wanted.clear()
        for slot in self._slots:
            slot.assigned = None
            slot.track.stop()
