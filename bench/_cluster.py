"""Server nodes for the failover benchmark and test: `counsel-room serve` processes on free
loopback ports sharing one database and one Redis, each with its own address
(`COUNSEL_NODE_URL`), and the aiortc tracks the people in their room send."""

from __future__ import annotations

import asyncio
import fractions
import os
import signal
import time
from pathlib import Path

import av
import numpy as np
from _serve import HOST, Server, free_port
from _speech import FRAME, RATE, Pcm
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack, VideoStreamTrack


def node_env(*, database_url: str, redis_url: str, secret: str, workdir: Path,
             models_dir: Path, speech_model: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COUNSEL_")}
    env.update(COUNSEL_DATABASE_URL=database_url, COUNSEL_REDIS_URL=redis_url,
               COUNSEL_SECRET_KEY=secret, COUNSEL_DATA_DIR=str(workdir),
               COUNSEL_MODELS_DIR=str(models_dir), COUNSEL_SPEECH_MODEL=speech_model,
               COUNSEL_RTC_HOST_ADDRESSES=HOST, COUNSEL_RTC_ICE_TIMEOUT_S="10")
    return env


class Node(Server):
    """One node; its address is known before it starts (`url`)."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        port = free_port()
        super().__init__({**env, "COUNSEL_NODE_URL": f"http://{HOST}:{port}"}, workdir,
                         port=port)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def kill(self) -> float:
        """SIGKILL, as a machine that dies: nothing drains. When it was sent (monotonic)."""
        at = time.monotonic()
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        return at


async def ready(nodes: list[Node], within: float = 180.0) -> None:
    await asyncio.gather(*(node.wait_ready(within) for node in nodes))


class LoopingSpeech(MediaStreamTrack):
    """An open microphone saying `clip` again and again, `gap_s` of silence between."""

    kind = "audio"

    def __init__(self, clip: Pcm, gap_s: float = 1.5) -> None:
        super().__init__()
        self._audio = np.concatenate([clip, np.zeros(round(gap_s * RATE), np.int16)])
        self._sent = 0
        self._start: float | None = None

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
        await asyncio.sleep(max(self._start + self._sent * FRAME / RATE - time.monotonic(), 0))
        at = (self._sent * FRAME) % self._audio.size
        chunk = np.zeros(FRAME, np.int16)
        piece = self._audio[at:at + FRAME]
        chunk[:piece.size] = piece
        frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = RATE
        frame.pts = self._sent * FRAME
        frame.time_base = fractions.Fraction(1, RATE)
        self._sent += 1
        return frame


def camera() -> MediaStreamTrack:
    """aiortc's test video: 640x480 frames at 30 fps."""
    return VideoStreamTrack()
