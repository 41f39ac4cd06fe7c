"""Two nodes, one room, the owner killed: the scenario of `bench/failover.py` and of
tests/integration/test_two_nodes.py.

A worker (speaking, with a camera) enters by node A and a counselor (camera) by node B; the
first socket makes A the room's owner and B sends the counselor there. Once video flows both
ways and the worker's words come back as captions, the counselor chats (a message every 0.6 s)
and A is killed with SIGKILL. Measured from the kill: both people welcomed again by B
(`room_moved_s`), video and audio flowing again both ways (`media_resumed_s`), the next caption
of the worker at the counselor (`captions_resumed_s`); then every chat message the counselor
sent (resent until acknowledged, as the page does) must be stored (`chat_lost`), and presence
must have counted out the sockets that died with A (one socket each, those on B).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _cluster import LoopingSpeech, Node, node_env, ready
from _roaming import Roamer
from _seed import seed_rooms
from _serve import HOST
from _speech import Pcm
from aiortc.mediastreams import MediaStreamTrack, VideoStreamTrack
from sqlalchemy import func, select

from media.rtc import use_host_addresses
from rooms.db import make_engine, make_sessionmaker
from rooms.models import ChatMessage, Participant
from server.settings import Settings


@dataclass
class Outcome:
    first_nodes: dict[str, str]
    """Where each person's first socket was welcomed (both: the owner A)."""
    redirected: bool
    """The counselor entered by B and was sent to A."""
    before: dict[str, Any]
    room_moved_s: float
    media_resumed_s: float
    captions_resumed_s: float
    chat_sent: int
    chat_lost: int
    connections_after: dict[str, int]
    """participants.connections once the dead node was swept (1 each: their sockets on B)."""
    errors: list[str] = field(default_factory=list)

    def report(self) -> dict[str, Any]:
        return {"room_moved_s": round(self.room_moved_s, 2),
                "media_resumed_s": round(self.media_resumed_s, 2),
                "captions_resumed_s": round(self.captions_resumed_s, 2),
                "chat_sent": self.chat_sent, "chat_lost": self.chat_lost,
                "redirected": self.redirected, "connections_after": self.connections_after}


class SmallCamera(VideoStreamTrack):
    """aiortc's test video at 160x120 (the CPU goes to the servers, not to the clients)."""

    async def recv(self) -> Any:
        frame = await super().recv()
        return frame.reformat(width=160, height=120)


async def _until(check: Callable[[], bool], within: float, what: str) -> float:
    """Wait until `check()` holds; when (monotonic)."""
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"not within {within:.0f} s: {what}")
        await asyncio.sleep(0.05)
    return time.monotonic()


def _first_after(times: list[float], after: float) -> float | None:
    return next((t for t in times if t > after), None)


async def run(workdir: Path, *, database_url: str, redis_url: str, models_dir: Path,
              speech_model: str, clip: Pcm, chat_messages: int = 20) -> Outcome:
    secret = "failover-" + uuid.uuid4().hex
    env = node_env(database_url=database_url, redis_url=redis_url, secret=secret,
                   workdir=workdir, models_dir=models_dir, speech_model=speech_model)
    a, b = Node(env, workdir / "a"), Node(env, workdir / "b")
    people: list[Roamer] = []
    try:
        await ready([a, b])
        with use_host_addresses([HOST]):  # the clients' peers on loopback, as the nodes'
            return await _scenario(a, b, people, database_url, secret, clip, chat_messages)
    except TimeoutError as exc:
        details = [f"{n}: welcomes={p.heard.welcomes} frames="
                   f"{ {k: len(v) for k, v in p.heard.frames.items()} } "
                   f"captions={len(p.heard.captions)} errors={p.errors}"
                   for n, p in zip(("worker", "counselor"), people, strict=False)]
        raise TimeoutError("\n".join([str(exc), *details, "node A:", a.log_tail(15),
                                       "node B:", b.log_tail(15)])) from exc
    finally:
        for person in people:
            await person.close()
        for node in (a, b):
            node.stop()


async def _scenario(a: Node, b: Node, people: list[Roamer], database_url: str, secret: str,
                    clip: Pcm, chat_messages: int) -> Outcome:
    (room,) = await seed_rooms(Settings(database_url=database_url, secret_key=secret),
                               rooms=1, workers=1, title="Failover", consent=True)
    worker_id, host_id = room.workers[0].participant_id, room.host.participant_id

    def worker_tracks() -> list[MediaStreamTrack]:
        return [LoopingSpeech(clip), SmallCamera()]

    worker = Roamer([a.url, b.url], room.room_id, room.workers[0].token, worker_tracks)
    counselor = Roamer([b.url, a.url], room.room_id, room.host.token,
                       lambda: [SmallCamera()])
    people.extend([worker, counselor])
    worker.start()
    await _until(lambda: bool(worker.heard.welcomes), 30, "the worker's welcome")
    counselor.start()
    await _until(lambda: bool(counselor.heard.welcomes), 30, "the counselor's welcome")
    first = {"worker": worker.heard.welcomes[0][1],
             "counselor": counselor.heard.welcomes[0][1]}

    def flowing(after: float) -> bool:
        return (counselor.heard.frames_after(worker_id, "video", after) > 5
                and counselor.heard.frames_after(worker_id, "audio", after) > 5
                and worker.heard.frames_after(host_id, "video", after) > 5)

    def captions_after(after: float) -> list[float]:
        return [at for at, c in counselor.heard.captions
                if c["speaker_id"] == worker_id and at > after]

    await _until(lambda: flowing(0), 90, "video both ways before the kill")
    await _until(lambda: bool(captions_after(0)), 180, "captions before the kill")
    before = {"captions": len(captions_after(0)),
              "video_to_counselor": counselor.heard.frames_after(worker_id, "video", 0),
              "video_to_worker": worker.heard.frames_after(host_id, "video", 0)}

    said: list[str] = []

    async def chat() -> None:
        for i in range(chat_messages):
            said.append(counselor.say(f"message {i}"))
            await asyncio.sleep(0.2)

    chatter = asyncio.create_task(chat())
    await asyncio.sleep(chat_messages * 0.3)  # half of the chat before the kill
    killed = a.kill()

    def moved() -> bool:
        return all(any(at > killed and node == b.url for at, node in p.heard.welcomes)
                   for p in people)

    moved_at = await _until(moved, 60, "both people welcomed by the surviving node")
    await _until(lambda: flowing(killed), 60, "media again after the kill")
    media_at = max(
        _first_after(counselor.heard.frames.get((worker_id, "video"), []), killed) or 0,
        _first_after(counselor.heard.frames.get((worker_id, "audio"), []), killed) or 0,
        _first_after(worker.heard.frames.get((host_id, "video"), []), killed) or 0)
    captions_at = (await _until(lambda: bool(captions_after(killed)), 120,
                                "captions after the kill"), captions_after(killed)[0])[1]
    await chatter
    await _until(lambda: not counselor.outbox, 30, "every chat message acknowledged")
    stored, connections = await _stored(database_url, said, [worker_id, host_id],
                                        {worker_id: 1, host_id: 1})
    return Outcome(
        first_nodes=first, redirected=first["counselor"] == a.url,
        before=before, room_moved_s=moved_at - killed, media_resumed_s=media_at - killed,
        captions_resumed_s=captions_at - killed, chat_sent=len(said),
        chat_lost=len(said) - stored,
        connections_after={"worker": connections[worker_id],
                           "counselor": connections[host_id]},
        errors=worker.errors + counselor.errors)


async def _stored(database_url: str, client_ids: list[str], participants: list[str],
                  expected: dict[str, int], within: float = 20.0) -> tuple[int, dict[str, int]]:
    """How many of the messages are stored, and participants.connections once it is
    `expected` (or as it is after `within` seconds: presence sweeps dead nodes every 2 s)."""
    engine = make_engine(database_url)
    try:
        sessions = make_sessionmaker(engine)
        deadline = time.monotonic() + within
        while True:
            async with sessions() as session:
                counts = {p.id: p.connections for p in (await session.execute(
                    select(Participant).where(Participant.id.in_(participants)))).scalars()}
                stored = (await session.execute(select(func.count()).select_from(ChatMessage)
                          .where(ChatMessage.client_id.in_(client_ids)))).scalar_one()
            if counts == expected or time.monotonic() > deadline:
                return stored, counts
            await asyncio.sleep(0.2)
    finally:
        await engine.dispose()
