"""Server CPU of forwarding one voice to N listeners: an interpreter's voice channel next to an
ordinary speaker's audio, measured the same way in the same server (bench/media.py measures the
router alone; this goes through the whole server, room sockets and all).

Two rooms (bench/_interpreted.py), one after the other, each with N listeners (workers who read
English, one receive-only audio m-line each, real aiortc peers signaling over their room
sockets) and one voice: in the ordinary room a worker publishes; in the interpreted room the
assigned interpreter publishes and sends `interpret.channel {"language": "en"}`, so the router
forwards their voice to the English readers only (media/rtc/audience.py); a reader of Spanish
there, connected the same way, must get none of it (`frames_to_other_readers`). Nobody
consented to transcription, so no audio is decoded on the server. The voice is pre-encoded Opus
(a 220-Hz tone, 32 kbit/s, 20-ms frames) paced in real time, as in bench/media.py, so that this
process costs little. Listeners count the frames they receive without decoding them.

Per phase, the server's CPU (`Server.cpu()`, all its threads) is read over `idle_s` with the
listeners connected and no voice (once the server uses under 10 % of a core: earlier work is
done), then over `seconds` while the voice is forwarded (after every listener received frames,
and `warmup_s`). `*_cpu_pct_per_listener` = (busy % - idle %) / N: the forwarding (and the
voice's one receive, shared by the N listeners), not the peers' upkeep.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import json
import time
from collections.abc import Callable
from typing import Any

import av
from _interpreted import InterpretedRoom
from _peer import Person
from aiortc import RTCBundlePolicy, RTCConfiguration, RTCPeerConnection
from aiortc.mediastreams import MediaStreamTrack

from media.rtc._aiortc import EncodedFrame, tap_encoded_frames

CHANNEL = "en"
FRAME = 960  # 20 ms at 48 kHz
TONE_S = 10


def encode_opus(seconds: int = TONE_S) -> list[bytes]:
    """A 220-Hz tone as Opus packets, 20 ms each."""
    source = av.open(f"sine=frequency=220:duration={seconds}", format="lavfi")
    codec = av.CodecContext.create("libopus", "w")
    codec.sample_rate, codec.layout, codec.format = 48000, "stereo", "s16"
    codec.bit_rate = 32000
    resampler = av.AudioResampler(format="s16", layout="stereo", rate=48000, frame_size=FRAME)
    packets = []
    for frame in source.decode(audio=0):
        for out in resampler.resample(frame):
            packets += [bytes(p) for p in codec.encode(out)]
    return packets


class OpusTrack(MediaStreamTrack):
    """Pre-encoded Opus packets in a loop, at their real-time pace."""

    kind = "audio"

    def __init__(self, packets: list[bytes]) -> None:
        super().__init__()
        self.sent = 0
        self._packets = packets
        self._start: float | None = None

    async def recv(self) -> av.Packet:
        if self._start is None:
            self._start = time.monotonic()
        await asyncio.sleep(max(self._start + self.sent * FRAME / 48000 - time.monotonic(), 0))
        packet = av.Packet(self._packets[self.sent % len(self._packets)])
        packet.pts = self.sent * FRAME
        packet.time_base = fractions.Fraction(1, 48000)
        self.sent += 1
        return packet


class MediaPerson(Person):
    """A room socket with a peer that publishes `voice`, or (None) only listens and counts the
    encoded audio frames that reach it."""

    def __init__(self, base: str, room_id: str, token: str, voice: OpusTrack | None) -> None:
        super().__init__(base, room_id, token, None)
        self.voice = voice
        self.frames = 0
        self._tapped: set[int] = set()

    async def start_media(self, within: float = 30.0) -> None:
        assert self.ws is not None
        self.pc = RTCPeerConnection(
            RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))
        if self.voice is not None:
            self.pc.addTransceiver(self.voice, direction="sendonly")
        else:
            self.pc.addTransceiver("audio", direction="recvonly")
            self.pc.on("track", self._on_track)
        await self.pc.setLocalDescription(await self.pc.createOffer())
        await self.ws.send(json.dumps({"type": "rtc.offer", "sdp": self.pc.localDescription.sdp}))
        await asyncio.wait_for(self._connected.wait(), within)

    def _on_track(self, track: Any) -> None:
        assert self.pc is not None
        receiver = next(t.receiver for t in self.pc.getTransceivers()
                        if t.receiver.track is track)
        if id(receiver) not in self._tapped:
            self._tapped.add(id(receiver))
            tap_encoded_frames(receiver, self._on_frame, decode=False)

    def _on_frame(self, frame: EncodedFrame) -> None:
        self.frames += 1

    async def close(self) -> None:
        if self.voice is not None:
            self.voice.stop()
        await super().close()


async def _until(condition: Callable[[], bool], within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} within {within:.0f} s")
        await asyncio.sleep(0.05)


async def phase(url: str, room: InterpretedRoom, packets: list[bytes], *, interpreter: bool,
                cpu: Callable[[], float], idle_s: float, warmup_s: float,
                seconds: float) -> dict[str, Any]:
    """One voice (the room's interpreter into the English channel, or its first worker) and
    the room's other workers listening; CPU idle, then busy."""
    voice_token = room.interpreter.token if interpreter else room.workers[0].token
    listeners = [MediaPerson(url, room.room_id, w.token, None)
                 for w in room.workers[0 if interpreter else 1:]]
    others = [MediaPerson(url, room.room_id, w.token, None) for w in room.others]
    speaker = MediaPerson(url, room.room_id, voice_token, OpusTrack(packets))
    people = [*listeners, *others, speaker]
    try:
        await asyncio.gather(*(p.open() for p in people))
        await asyncio.gather(*(p.start_media() for p in [*listeners, *others]))
        await _settle(cpu)
        idle = await _cpu_pct(cpu, idle_s)
        if interpreter:
            assert speaker.ws is not None
            await speaker.ws.send(json.dumps({"type": "interpret.channel",
                                              "language": CHANNEL}))
        await speaker.start_media()
        await _until(lambda: all(p.frames for p in listeners), 30,
                     "the voice did not reach every listener")
        await asyncio.sleep(warmup_s)
        frames0 = [p.frames for p in listeners]
        sent0 = speaker.voice.sent if speaker.voice is not None else 0
        started = time.monotonic()
        busy = await _cpu_pct(cpu, seconds)
        elapsed = time.monotonic() - started
        delivered = [(p.frames - f) / elapsed for p, f in zip(listeners, frames0, strict=True)]
        sent = ((speaker.voice.sent if speaker.voice is not None else 0) - sent0) / elapsed
    finally:
        for person in people:
            with contextlib.suppress(Exception):
                await person.close()
    return {
        "per_listener": round((busy - idle) / len(listeners), 3),
        "listeners": len(listeners), "idle_cpu_pct": round(idle, 2),
        "busy_cpu_pct": round(busy, 2), "frames_per_s_sent": round(sent, 1),
        "frames_per_s_delivered_min": round(min(delivered), 1),
        "frames_per_s_delivered_mean": round(sum(delivered) / len(delivered), 1),
        "other_readers": len(others), "frames_to_other_readers": sum(p.frames for p in others),
        "errors": sorted({e for p in people for e in p.errors}),
    }


async def _settle(cpu: Callable[[], float], below: float = 10.0, within: float = 30.0) -> None:
    """Until the server uses less than `below` % of a core over a second (what came before
    has finished), or `within` s."""
    deadline = time.monotonic() + within
    while await _cpu_pct(cpu, 1.0) >= below and time.monotonic() < deadline:
        pass


async def _cpu_pct(cpu: Callable[[], float], seconds: float) -> float:
    """The server's CPU over the next `seconds`, in % of one core."""
    cpu0, wall0 = cpu(), time.monotonic()
    await asyncio.sleep(seconds)
    return (cpu() - cpu0) / (time.monotonic() - wall0) * 100


async def measure(url: str, ordinary: InterpretedRoom, interpreted: InterpretedRoom,
                  cpu: Callable[[], float], *, idle_s: float = 5.0, warmup_s: float = 2.0,
                  seconds: float = 10.0) -> dict[str, Any]:
    """Both phases: `ordinary` (its first worker speaks) and `interpreted` (its interpreter)."""
    packets = await asyncio.to_thread(encode_opus)
    timing: dict[str, Any] = dict(cpu=cpu, idle_s=idle_s, warmup_s=warmup_s, seconds=seconds)
    plain = await phase(url, ordinary, packets, interpreter=False, **timing)
    channel = await phase(url, interpreted, packets, interpreter=True, **timing)
    ratio = (round(channel["per_listener"] / plain["per_listener"], 2)
             if plain["per_listener"] > 0 else None)
    return {
        "interpreter_audio_cpu_pct_per_listener": channel.pop("per_listener"),
        "ordinary_audio_cpu_pct_per_listener": plain.pop("per_listener"),
        "interpreter_over_ordinary_audio": ratio,
        "voice_forwarding": {
            "seconds": seconds, "idle_s": idle_s, "audio": "Opus 48 kHz 20 ms 32 kbps",
            "ordinary": plain, "interpreter": {"channel": CHANNEL, **channel},
        },
    }
