"""A worker admitted at the moment their page's socket connects is let in: the admission was
published before the socket could hear it, so the socket looks again once it hears its room
(seen in the browser tests as a worker left in the waiting room for good)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.conftest import staff_browser
from tests.live import Browser, LiveServer, Socket

WORKERS = 12


def test_workers_admitted_while_their_sockets_connect_are_all_let_in(live: LiveServer) -> None:
    counselor = staff_browser(live)
    room_id = counselor.create_room()
    host = Socket(live.url, room_id, counselor.enter(room_id).token)
    host.expect("welcome")
    joined: list[tuple[str, str]] = []  # (participant id, room token)
    for k in range(WORKERS):
        link, code = counselor.invite(room_id, "worker", label=f"Worker {k}")
        browser = Browser(live.url)
        browser.join(link, code, name=f"Worker Number {k}", language="vi")
        token = browser.room(room_id).token
        probe = Socket(live.url, room_id, token)
        joined.append((str(probe.expect("welcome")["you"]["id"]), token))
        probe.close()

    def connect(token: str) -> Socket:
        return Socket(live.url, room_id, token)

    with ThreadPoolExecutor(WORKERS) as pool:
        opening = [pool.submit(connect, token) for _, token in joined]
        for pid, _ in joined:  # while the sockets connect
            host.send({"type": "lobby.admit", "participant_id": pid})
        sockets = [f.result() for f in opening]
    for socket in sockets:
        socket.until(lambda m: m["type"] == "lobby.admitted" or (
            m["type"] == "welcome" and m["admission"] == "admitted"))
