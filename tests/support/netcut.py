"""TCP relays on 127.0.0.1: one that drops the connection after a number of client bytes (a host that
goes away in the middle of an upload, for real, at a chosen point) or on demand (``drop()``: a network
blip, after which new connections go through), one that delays every packet (a host far away)."""

from __future__ import annotations

import contextlib
import queue
import socket
import threading
import time


class CuttingProxy:
    def __init__(self, upstream_port: int, cut_after: int) -> None:
        self.upstream_port = upstream_port
        self.cut_after = cut_after
        self.sent = 0
        self.cut = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._sockets: list[socket.socket] = []
        self._stopping = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stopping:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            self._sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, counted: bool) -> None:
        try:
            while chunk := src.recv(65536):
                if counted:
                    self.sent += len(chunk)
                    if self.sent >= self.cut_after:
                        self.cut.set()
                        self._drop()
                        return
                dst.sendall(chunk)
        except OSError:
            pass
        finally:
            self._drop() if self.cut.is_set() else None

    def _drop(self) -> None:
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def drop(self) -> None:
        """Cut every connection open now, as a network blip would; later ones are relayed as before."""
        sockets, self._sockets = self._sockets, []
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def close(self) -> None:
        self._stopping = True
        self._listener.close()
        self._drop()


class DelayingProxy:
    """A TCP relay on 127.0.0.1 that delays every chunk by ``delay`` seconds each way: a host ``2 * delay``
    of round trip away, for real (benchmarks of how many round trips a deploy makes; loopback has none)."""

    def __init__(self, upstream_port: int, delay: float) -> None:
        self.upstream_port = upstream_port
        self.delay = delay
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._sockets: list[socket.socket] = []
        self._stopping = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stopping:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            for sock in (client, upstream):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._sockets += [client, upstream]
            for src, dst in ((client, upstream), (upstream, client)):
                line: queue.Queue[tuple[float, bytes]] = queue.Queue()
                threading.Thread(target=self._read, args=(src, line), daemon=True).start()
                threading.Thread(target=self._write, args=(dst, line), daemon=True).start()

    def _read(self, src: socket.socket, line: queue.Queue[tuple[float, bytes]]) -> None:
        try:
            while chunk := src.recv(65536):
                line.put((time.monotonic() + self.delay, chunk))
        except OSError:
            pass
        line.put((time.monotonic() + self.delay, b""))

    def _write(self, dst: socket.socket, line: queue.Queue[tuple[float, bytes]]) -> None:
        while True:
            due, chunk = line.get()
            time.sleep(max(0.0, due - time.monotonic()))
            try:
                if not chunk:
                    dst.shutdown(socket.SHUT_WR)
                    return
                dst.sendall(chunk)
            except OSError:
                return

    def close(self) -> None:
        self._stopping = True
        self._listener.close()
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.close()
