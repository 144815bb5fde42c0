"""A TCP proxy the tests control, to cut a real service off and bring it back without touching it."""

from __future__ import annotations

import socket
import threading
from contextlib import suppress

__all__ = ["TcpProxy"]


class TcpProxy:
    """Forwards ``127.0.0.1:<port>`` to ``target``. ``cut()`` drops every connection and refuses new
    ones until ``restore()``; the listening port stays the same, as a restarted server's would.
    ``hold_replies_after(marker)``: once a client sends ``marker`` (say ``b"COMMIT"``), the server's
    replies are held back (``held`` is set) until ``release()`` — the server did the work, the client
    has not heard of it."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._open = threading.Event()
        self._open.set()
        self._stop = threading.Event()
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._marker: bytes | None = None
        self.held = threading.Event()
        self._flowing = threading.Event()
        self._flowing.set()

    def __enter__(self) -> TcpProxy:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._drop_all()
        self._listener.close()
        self._thread.join(timeout=5)

    def cut(self) -> None:
        self._open.clear()
        self._drop_all()

    def restore(self) -> None:
        self._open.set()

    def hold_replies_after(self, marker: bytes) -> None:
        self._marker = marker

    def release(self) -> None:
        self._marker = None
        self._flowing.set()

    def _drop_all(self) -> None:
        with self._lock:
            for conn in list(self._connections):
                with suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
                conn.close()
            self._connections.clear()

    def _accept(self) -> None:
        self._listener.settimeout(0.2)
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if not self._open.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._connections |= {client, upstream}
            for a, b, replies in ((client, upstream, False), (upstream, client, True)):
                threading.Thread(target=self._pipe, args=(a, b, replies), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, replies: bool) -> None:
        with suppress(OSError):
            while data := source.recv(65536):
                if not replies and self._marker is not None and self._marker in data:
                    self._flowing.clear()
                    self.held.set()
                while replies and not self._flowing.wait(0.1):
                    if self._stop.is_set():
                        return
                sink.sendall(data)
        with suppress(OSError):
            sink.shutdown(socket.SHUT_WR)
