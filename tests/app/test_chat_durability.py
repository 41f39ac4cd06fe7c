"""Every chat message the server acknowledged is there after the server is killed (SIGKILL, no
shutdown) in the middle of a burst: acknowledged means committed (`rooms/chat_writer.py`, with
SQLite's synchronous=FULL)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from websockets.exceptions import ConnectionClosed

from rooms import chat
from rooms.db import make_engine, make_sessionmaker
from rooms.migrate import upgrade
from tests.conftest import NO_MODELS, seed_staff, staff_browser
from tests.live import Socket
from tests.services import free_port, wait_for_port

SERVE = "from server.cli import main; main()"  # the real `counsel-room serve`
MESSAGES = 300


class ServerProcess:
    """`counsel-room serve` in a process of its own, so that it can be killed."""

    def __init__(self, database_url: str, workdir: Path) -> None:
        self.port = free_port()
        env = {**os.environ, "COUNSEL_DATABASE_URL": database_url,
               "COUNSEL_SECRET_KEY": "durability-secret-" + "x" * 32,
               "COUNSEL_MODELS_DIR": str(NO_MODELS), "COUNSEL_CAPTIONS_ENABLED": "false",
               "COUNSEL_DATA_DIR": str(workdir),
               "COUNSEL_WS_RATE_PER_SECOND": "100000", "COUNSEL_WS_RATE_BURST": "100000",
               "COUNSEL_CHAT_RATE_PER_SECOND": "100000", "COUNSEL_CHAT_RATE_BURST": "100000",
               "COUNSEL_CHAT_RATE_PER_ADDRESS_PER_SECOND": "100000",
               "COUNSEL_CHAT_RATE_PER_ADDRESS_BURST": "100000"}
        self.process = subprocess.Popen(
            [sys.executable, "-c", SERVE, "serve", "--host", "127.0.0.1",
             "--port", str(self.port)], env=env, cwd=workdir, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port, timeout=60)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)


def _stored_client_ids(database_url: str, room_id: str) -> set[str]:
    async def read() -> set[str]:
        engine = make_engine(database_url)
        try:
            async with make_sessionmaker(engine)() as session:
                return {m.client_id for m in await chat.history(session, room_id,
                                                                limit=MESSAGES * 2)}
        finally:
            await engine.dispose()
    return asyncio.run(read())


def _acknowledged(socket: Socket) -> Iterator[str]:
    """The client ids the server acknowledges, until the connection dies."""
    with contextlib.suppress(ConnectionClosed, TimeoutError, OSError):
        while True:
            message = json.loads(socket.ws.recv(timeout=30))
            if message["type"] == "chat.ack":
                yield str(message["client_id"])


def test_every_acknowledged_message_survives_a_kill(tmp_path: Path) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'counsel.db'}"
    upgrade(database_url)
    seed_staff(database_url)
    server = ServerProcess(database_url, tmp_path)
    try:
        counselor = staff_browser(server)  # type: ignore[arg-type]
        room_id = counselor.create_room()
        socket = Socket(server.url, room_id, counselor.enter(room_id).token)
        socket.expect("chat.history")
        for k in range(MESSAGES):  # a burst: many are waiting to be stored at any moment
            socket.send({"type": "chat.send", "client_id": f"m{k}", "text": f"message {k}"})
        acknowledged: list[str] = []
        for client_id in _acknowledged(socket):
            acknowledged.append(client_id)
            if len(acknowledged) == MESSAGES // 3:
                server.kill()  # mid-burst, no shutdown
    finally:
        server.kill()
    assert len(acknowledged) >= MESSAGES // 3
    assert set(acknowledged) <= _stored_client_ids(database_url, room_id)
