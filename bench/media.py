"""Server-side CPU of the media router: audio, forwarded video, and aiortc's stock re-encode relay.

    python bench/media.py --streams 8 --seconds 10 --json

The server runs in a subprocess (this file with ``--serve``): one `RoomMediaRouter` per room,
signaling over stdin/stdout as JSON lines, CPU read with `time.process_time()` (all its threads).
This process plays N publishers and one viewer each (one room per publisher/viewer pair), all
real aiortc peers on loopback. Publishers send pre-encoded VP8/Opus packets so that they cost
little and never compete with the server for the CPU; keyframe requests (PLI) reaching a
publisher make it send an intra-coded frame next. Viewers count complete frames as they come out
of their jitter buffers, without decoding.

Phases, each with fresh peers: audio (N rooms), video forwarding (N rooms; viewers join late to
measure the keyframe delay), stock decode + re-encode relay (`MediaRelay`, R rooms; R defaults
to 2 because 8 such streams saturate two cores). One JSON object goes to stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import fractions
import itertools
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import _repo  # noqa: F401 - before the project's imports: see bench/_repo.py
import aiortc
import av
from aiortc import (
    RTCBundlePolicy,
    RTCConfiguration,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import MediaStreamTrack

from media.rtc import (
    AudioTapOpened,
    IceConfig,
    MediaConfig,
    MediaEvent,
    RoomMediaRouter,
    SdpAnswer,
    Signal,
    use_host_addresses,
)
from media.rtc._aiortc import EncodedFrame, on_keyframe_request, tap_encoded_frames
from media.rtc.kinds import is_keyframe

LOOPBACK = ["127.0.0.1"]
FPS = 20
WIDTH, HEIGHT = 640, 480
CLIP_S = 10
AUDIO_FRAME = 960  # 20 ms at 48 kHz


def _rtc_config() -> Any:
    return RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)


# ============================================================================================
# server (subprocess)
# ============================================================================================


class StockRoom:
    """aiortc's stock relay: decode the publisher's video, re-encode it for the viewer."""

    def __init__(self) -> None:
        self.relay = MediaRelay()
        self.source: Any = None
        self.source_ready = asyncio.Event()
        self.pcs: list[Any] = []

    async def offer(self, pid: str, sdp: str, send: Callable[[dict[str, Any]], None]) -> None:
        pc = RTCPeerConnection(_rtc_config())
        self.pcs.append(pc)

        @pc.on("track")
        def on_track(track: Any) -> None:
            self.source = track
            self.source_ready.set()

        await pc.setRemoteDescription(RTCSessionDescription(sdp, "offer"))
        if pid == "view":
            await self.source_ready.wait()
            pc.addTrack(self.relay.subscribe(self.source, buffered=False))
        await pc.setLocalDescription(await pc.createAnswer())
        send({"signal": "answer", "pid": pid, "sdp": pc.localDescription.sdp})

    async def close(self) -> None:
        for pc in self.pcs:
            await pc.close()


class BenchServer:
    def __init__(self) -> None:
        self.routers: dict[str, RoomMediaRouter] = {}
        self.stock: dict[str, StockRoom] = {}
        self.drains: set[asyncio.Task[None]] = set()

    def write(self, message: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()

    def sink(self, room: str, pid: str) -> Callable[[Signal], Any]:
        async def send(signal: Signal) -> None:
            kind = "answer" if isinstance(signal, SdpAnswer) else "offer"
            self.write({"signal": kind, "room": room, "pid": pid, "sdp": signal.sdp})

        return send

    def on_event(self, event: MediaEvent) -> None:
        if isinstance(event, AudioTapOpened):  # consume taps the way the speech pipeline would
            task = asyncio.get_running_loop().create_task(self._drain(event.tap))
            self.drains.add(task)
            task.add_done_callback(self.drains.discard)

    async def _drain(self, tap: Any) -> None:
        async for _frame in tap:
            pass

    async def handle(self, msg: dict[str, Any]) -> dict[str, Any]:
        op, room = msg["op"], msg.get("room", "")
        if op == "open":
            if msg["mode"] == "router":
                # gathering on loopback: the clients' loopback candidates are allowed too
                ice = IceConfig(host_addresses=tuple(LOOPBACK))
                config = MediaConfig(ice=ice, ice_timeout_s=60)
                self.routers[room] = RoomMediaRouter(config, on_event=self.on_event)
            else:
                self.stock[room] = StockRoom()
        elif op == "join" and room in self.routers:
            self.routers[room].add(msg["pid"], self.sink(room, msg["pid"]))
        elif op == "offer" and room in self.routers:
            await self.routers[room].session(msg["pid"]).handle_offer(msg["sdp"])
        elif op == "offer":
            send = lambda m: self.write({**m, "room": room})  # noqa: E731
            await self.stock[room].offer(msg["pid"], msg["sdp"], send)
        elif op == "answer":
            await self.routers[room].session(msg["pid"]).handle_answer(msg["sdp"])
        elif op == "close":
            if room in self.routers:
                await self.routers.pop(room).close()
            else:
                await self.stock.pop(room).close()
        elif op == "cpu":
            return {"cpu": time.process_time(), "wall": time.monotonic()}
        elif op == "counts":
            counts = [r.counts() for r in self.routers.values()]
            return {"peers": sum(c.peers for c in counts), "tasks": sum(c.tasks for c in counts)}
        return {}

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        pending: set[asyncio.Task[None]] = set()
        while line := await reader.readline():
            msg = json.loads(line)
            if msg["op"] == "quit":
                break
            task = loop.create_task(self._reply(msg))
            pending.add(task)
            task.add_done_callback(pending.discard)

    async def _reply(self, msg: dict[str, Any]) -> None:
        try:
            reply = await self.handle(msg)
        except Exception as exc:  # report to the driver instead of leaving it waiting
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        self.write({"id": msg["id"], **reply})


async def serve() -> None:
    with use_host_addresses(LOOPBACK):
        await BenchServer().run()


# ============================================================================================
# load generator (this process)
# ============================================================================================


@dataclass
class Clip:
    video: list[bytes]
    video_intra: list[bytes]
    audio: list[bytes]


def _encode_vp8(frames: list[Any], kbps: int, gop: int) -> list[bytes]:
    codec = av.CodecContext.create("libvpx", "w")
    codec.width, codec.height, codec.pix_fmt = WIDTH, HEIGHT, "yuv420p"
    codec.time_base = fractions.Fraction(1, FPS)
    codec.bit_rate = kbps * 1000
    codec.gop_size = gop
    codec.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
    packets = [bytes(p) for f in frames for p in codec.encode(f)]
    packets += [bytes(p) for p in codec.encode(None)]
    assert len(packets) == len(frames), "one VP8 packet per frame"
    return packets


def _encode_opus(seconds: int) -> list[bytes]:
    source = av.open(f"sine=frequency=220:duration={seconds}", format="lavfi")
    codec = av.CodecContext.create("libopus", "w")
    codec.sample_rate, codec.layout, codec.format = 48000, "stereo", "s16"
    codec.bit_rate = 32000
    resampler = av.AudioResampler(format="s16", layout="stereo", rate=48000, frame_size=960)
    packets = []
    for frame in source.decode(audio=0):
        for out in resampler.resample(frame):
            packets += [bytes(p) for p in codec.encode(out)]
    return packets


def make_clip(kbps: int) -> Clip:
    source = av.open(f"testsrc2=size={WIDTH}x{HEIGHT}:rate={FPS}", format="lavfi")
    frames = []
    for frame in itertools.islice(source.decode(video=0), CLIP_S * FPS):
        frames.append(frame.reformat(format="yuv420p"))
    for i, frame in enumerate(frames):
        frame.pts = i
    # one keyframe per loop; intra versions of every frame answer keyframe requests
    return Clip(
        _encode_vp8(frames, kbps, gop=CLIP_S * FPS),
        _encode_vp8(frames, kbps, gop=1),
        _encode_opus(CLIP_S),
    )


class PacketTrack(MediaStreamTrack):
    """Pre-encoded frames at their real-time pace; an intra frame next after a keyframe request."""

    def __init__(self, kind: str, packets: list[bytes], intra: list[bytes] | None) -> None:
        super().__init__()
        self.kind = kind
        self.sent = 0
        self._packets = packets
        self._intra = intra
        self._clock = 90000 if kind == "video" else 48000
        self._ticks = self._clock // FPS if kind == "video" else AUDIO_FRAME
        self._interval = 1 / FPS if kind == "video" else AUDIO_FRAME / 48000
        self._start: float | None = None
        self._keyframe = False

    def request_keyframe(self) -> None:
        self._keyframe = True

    async def recv(self) -> Any:
        if self._start is None:
            self._start = time.monotonic()
        delay = self._start + self.sent * self._interval - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        index = self.sent % len(self._packets)
        data = self._packets[index]
        if self._keyframe and self._intra is not None:
            data, self._keyframe = self._intra[index], False
        packet = av.Packet(data)
        packet.pts = self.sent * self._ticks
        packet.time_base = fractions.Fraction(1, self._clock)
        self.sent += 1
        return packet


class ServerLink:
    """The server subprocess, spoken to over JSON lines."""

    def __init__(self, proc: Any) -> None:
        self.proc = proc
        self.peers: dict[tuple[str, str], BenchPeer] = {}
        self._ids = itertools.count()
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._reader = asyncio.get_running_loop().create_task(self._read())

    async def request(self, op: str, **kwargs: Any) -> dict[str, Any]:
        rid = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[rid] = future
        self.proc.stdin.write((json.dumps({"id": rid, "op": op, **kwargs}) + "\n").encode())
        await self.proc.stdin.drain()
        return await future

    async def _read(self) -> None:
        while line := await self.proc.stdout.readline():
            msg = json.loads(line)
            if "error" in msg:
                self._pending.pop(msg["id"]).set_exception(RuntimeError(msg["error"]))
            elif "id" in msg:
                self._pending.pop(msg["id"]).set_result(msg)
            else:
                self.peers[(msg["room"], msg["pid"])].signals.put_nowait(msg)

    async def cpu(self) -> tuple[float, float]:
        reply = await self.request("cpu")
        return reply["cpu"], reply["wall"]

    async def close(self) -> None:
        self.proc.stdin.write(b'{"op": "quit"}\n')
        await self.proc.stdin.drain()
        await self.proc.wait()
        self._reader.cancel()


class BenchPeer:
    def __init__(self, link: ServerLink, room: str, pid: str) -> None:
        self.link, self.room, self.pid = link, room, pid
        self.pc = RTCPeerConnection(_rtc_config())
        self.signals: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.connected = asyncio.Event()
        self.connected_at: float | None = None
        self.pc.on("connectionstatechange", self._on_state)
        link.peers[(room, pid)] = self
        self._task: asyncio.Task[None] | None = None

    def _on_state(self) -> None:
        if self.pc.connectionState == "connected" and not self.connected.is_set():
            self.connected_at = time.monotonic()
            self.connected.set()

    async def join(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._signaling())
        await self.link.request("join", room=self.room, pid=self.pid)
        await self.pc.setLocalDescription(await self.pc.createOffer())
        sdp = self.pc.localDescription.sdp
        await self.link.request("offer", room=self.room, pid=self.pid, sdp=sdp)

    async def _signaling(self) -> None:
        while True:
            msg = await self.signals.get()
            await self.pc.setRemoteDescription(RTCSessionDescription(msg["sdp"], msg["signal"]))
            if msg["signal"] == "offer":
                await self.pc.setLocalDescription(await self.pc.createAnswer())
                sdp = self.pc.localDescription.sdp
                await self.link.request("answer", room=self.room, pid=self.pid, sdp=sdp)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
        await self.pc.close()


class Publisher(BenchPeer):
    def __init__(self, link: ServerLink, room: str, track: PacketTrack) -> None:
        super().__init__(link, room, "pub")
        self.track = track
        sender = self.pc.addTransceiver(track, direction="sendonly").sender
        on_keyframe_request(sender, track.request_keyframe)


@dataclass
class Viewer:
    peer: BenchPeer
    joined_at: float = 0.0
    frames: int = 0
    keyframes: int = 0
    first_at: float | None = None
    first_is_keyframe: bool = False
    window: list[int] = field(default_factory=list)

    @classmethod
    def make(cls, link: ServerLink, room: str, kind: str) -> Viewer:
        viewer = cls(BenchPeer(link, room, "view"))
        viewer.peer.pc.addTransceiver(kind, direction="recvonly")
        viewer.peer.pc.on("track", viewer._on_track)
        return viewer

    def _on_track(self, track: Any) -> None:
        pc = self.peer.pc
        receiver = next(t.receiver for t in pc.getTransceivers() if t.receiver.track is track)
        tap_encoded_frames(receiver, self._on_frame, decode=False)

    def _on_frame(self, frame: EncodedFrame) -> None:
        keyframe = frame.mime_type.startswith("video/") and is_keyframe(frame.mime_type, frame.data)
        if self.first_at is None:
            self.first_at = time.monotonic()
            self.first_is_keyframe = keyframe
        self.frames += 1
        self.keyframes += keyframe

    async def join(self) -> None:
        self.joined_at = time.monotonic()
        await self.peer.join()

    def first_frame_after(self, moment: float | None) -> float:
        assert self.first_at is not None and moment is not None
        return self.first_at - moment


@dataclass
class PhaseResult:
    cpu_pct_per_stream: float
    fps_sent: list[float]
    fps_delivered: list[float]
    keyframe_after_connect_s: list[float]
    join_to_first_frame_s: list[float]
    first_frames_are_keyframes: bool


async def run_phase(
    link: ServerLink, clip: Clip, *, name: str, mode: str, kind: str, streams: int, seconds: float,
    warmup: float,
) -> PhaseResult:  # fmt: skip
    rooms = [f"{name}-{i}" for i in range(streams)]
    publishers, viewers = [], []
    for room in rooms:
        await link.request("open", room=room, mode=mode)
        if kind == "video":
            track = PacketTrack("video", clip.video, clip.video_intra)
        else:
            track = PacketTrack("audio", clip.audio, None)
        publishers.append(Publisher(link, room, track))
        viewers.append(Viewer.make(link, room, kind))
    await asyncio.gather(*(p.join() for p in publishers))
    await asyncio.gather(*(p.connected.wait() for p in publishers))
    await asyncio.sleep(1.0)  # publishers stream before the viewers arrive: they join late
    await asyncio.gather(*(v.join() for v in viewers))
    async with asyncio.timeout(20):
        await asyncio.gather(*(v.peer.connected.wait() for v in viewers))
        while any(v.first_at is None for v in viewers):  # noqa: ASYNC110 - frames are counted
            await asyncio.sleep(0.05)
    await asyncio.sleep(warmup)

    sent0 = [p.track.sent for p in publishers]
    got0 = [v.frames for v in viewers]
    cpu0, wall0 = await link.cpu()
    await asyncio.sleep(seconds)
    cpu1, wall1 = await link.cpu()
    elapsed = wall1 - wall0
    result = PhaseResult(
        cpu_pct_per_stream=(cpu1 - cpu0) / elapsed * 100 / streams,
        fps_sent=[(p.track.sent - s) / elapsed for p, s in zip(publishers, sent0, strict=True)],
        fps_delivered=[(v.frames - g) / elapsed for v, g in zip(viewers, got0, strict=True)],
        keyframe_after_connect_s=[v.first_frame_after(v.peer.connected_at) for v in viewers],
        join_to_first_frame_s=[v.first_frame_after(v.joined_at) for v in viewers],
        first_frames_are_keyframes=all(v.first_is_keyframe for v in viewers),
    )
    for peer in [*publishers, *(v.peer for v in viewers)]:
        await peer.close()
    for room in rooms:
        await link.request("close", room=room)
    return result


def _mean(values: list[float]) -> float:
    return round(statistics.fmean(values), 2)


async def drive(args: argparse.Namespace) -> dict[str, Any]:
    clip = make_clip(args.video_kbps)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--serve",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    link = ServerLink(proc)
    try:
        cpu0, wall0 = await link.cpu()
        await asyncio.sleep(1.0)
        cpu1, wall1 = await link.cpu()
        phase = dict(streams=args.streams, seconds=args.seconds, warmup=args.warmup)
        audio = await run_phase(link, clip, name="audio", mode="router", kind="audio", **phase)
        video = await run_phase(link, clip, name="video", mode="router", kind="video", **phase)
        phase["streams"] = args.reencode_streams
        stock = await run_phase(link, clip, name="stock", mode="stock", kind="video", **phase)
        counts = await link.request("counts")
    finally:
        await link.close()
    return {
        "streams": args.streams,
        "seconds": args.seconds,
        "audio_cpu_pct_per_stream": round(audio.cpu_pct_per_stream, 2),
        "video_forward_cpu_pct_per_stream": round(video.cpu_pct_per_stream, 2),
        "video_reencode_cpu_pct_per_stream": round(stock.cpu_pct_per_stream, 2),
        "reencode_streams": args.reencode_streams,
        "reencode_over_forward": round(stock.cpu_pct_per_stream / video.cpu_pct_per_stream, 1),
        "video_fps_sent": _mean(video.fps_sent),
        "video_fps_delivered": _mean(video.fps_delivered),
        "video_fps_delivered_min": round(min(video.fps_delivered), 2),
        "reencode_fps_delivered": _mean(stock.fps_delivered),
        "audio_frames_per_s_sent": _mean(audio.fps_sent),
        "audio_frames_per_s_delivered": _mean(audio.fps_delivered),
        "keyframe_after_join_s": round(statistics.median(video.keyframe_after_connect_s), 3),
        "keyframe_after_join_max_s": round(max(video.keyframe_after_connect_s), 3),
        "join_to_first_keyframe_s": round(statistics.median(video.join_to_first_frame_s), 3),
        "first_forwarded_frames_are_keyframes": video.first_frames_are_keyframes,
        "server_idle_cpu_pct": round((cpu1 - cpu0) / (wall1 - wall0) * 100, 2),
        "server_peers_after": counts["peers"],
        "video": f"VP8 {WIDTH}x{HEIGHT} {FPS} fps {args.video_kbps} kbps",
        "audio": "Opus 48 kHz 20 ms 32 kbps",
        "cpus": os.cpu_count(),
        "aiortc": aiortc.__version__,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--reencode-streams", type=int, default=None)
    parser.add_argument("--video-kbps", type=int, default=1000)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve())
        return
    if args.reencode_streams is None:
        args.reencode_streams = min(args.streams, 2)
    if args.streams < 1 or args.reencode_streams < 1:
        parser.error("--streams and --reencode-streams need at least one stream each")
    with use_host_addresses(LOOPBACK):
        result = asyncio.run(drive(args))
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:40} {value}")


if __name__ == "__main__":
    main()
