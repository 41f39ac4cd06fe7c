"""A reverse proxy on loopback that routes each connection by its first request's path prefix:
`/nodes/a/...` to one server (prefix stripped), anything else to the entry server. The
deployment docs/architecture.md describes for room placement (every node reachable under one
public origin), small enough for tests: HTTP/1.1 heads are read once per connection, then bytes
flow both ways untouched (WebSocket handshakes open connections of their own)."""

from __future__ import annotations

import contextlib
import socket
import threading

from tests.services import free_port


class PathProxy:
    def __init__(self) -> None:
        self.port = free_port()
        self.routes: dict[str, int] = {}
        """Path prefix (e.g. "/nodes/a") -> the port of the server it reaches."""
        self.entry_port = 0
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, name="path-proxy", daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            for sock in self._open:
                with contextlib.suppress(OSError):
                    sock.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _route(self, head: bytes) -> tuple[int, bytes]:
        method, path, rest = head.split(b" ", 2)
        for prefix, port in self.routes.items():
            if path.startswith(prefix.encode() + b"/"):
                return port, b" ".join([method, path[len(prefix):], rest])
        return self.entry_port, head

    def _serve(self, client: socket.socket) -> None:
        data = b""
        with contextlib.suppress(OSError):
            while b"\r\n\r\n" not in data:
                chunk = client.recv(65536)
                if not chunk:
                    client.close()
                    return
                data += chunk
            port, data = self._route(data)
            upstream = socket.create_connection(("127.0.0.1", port))
            with self._lock:
                self._open += [client, upstream]
            upstream.sendall(data)
            threading.Thread(target=_pump, args=(upstream, client), daemon=True).start()
            _pump(client, upstream)


def _pump(source: socket.socket, sink: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            sink.sendall(data)
    for sock in (source, sink):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
