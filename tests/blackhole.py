"""A TCP proxy on loopback whose open connections can be made to go silent: what a browser sees
when a server node dies or a network drops without closing the connection (no FIN, no RST, no
data). New connections after that pass through as usual."""

from __future__ import annotations

import contextlib
import socket
import threading

from tests.services import free_port


class BlackholeProxy:
    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._lock = threading.Lock()
        self._silenced: set[socket.socket] = set()
        self._open: list[socket.socket] = []
        self._stopped = False
        threading.Thread(target=self._accept, name="blackhole-accept", daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def silence_open_connections(self) -> int:
        """From now on the connections open so far carry nothing either way (and stay open)."""
        with self._lock:
            self._silenced.update(self._open)
            return len(self._open)

    def stop(self) -> None:
        self._stopped = True
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            for sock in self._open:
                with contextlib.suppress(OSError):
                    sock.close()

    def _accept(self) -> None:
        while not self._stopped:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            with self._lock:
                self._open += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink, client), daemon=True,
                                 name="blackhole-pump").start()

    def _pump(self, source: socket.socket, sink: socket.socket, client: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                if client in self._silenced:
                    continue  # swallowed: the other side hears nothing, and no close
                sink.sendall(data)
        if client not in self._silenced:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
