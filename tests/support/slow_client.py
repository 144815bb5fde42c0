"""An HTTP/1.1 request whose body trickles in: it stays in flight for as long as the test wants."""

from __future__ import annotations

import json
import socket
import time
from typing import Any
from urllib.parse import urlsplit

__all__ = ["trickle_post"]


def trickle_post(url: str, path: str, payload: Any, seconds: float, pieces: int = 8) -> tuple[int, Any]:
    """POST ``payload`` as JSON, spreading the body over ``seconds``; return (status, decoded body)."""
    parts = urlsplit(url)
    body = json.dumps(payload).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    step = max(1, len(body) // pieces + 1)
    with socket.create_connection((parts.hostname, parts.port), timeout=seconds + 30) as sock:
        sock.sendall(head)
        for start in range(0, len(body), step):
            time.sleep(seconds / pieces)
            sock.sendall(body[start : start + step])
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    header, _, content = answer.partition(b"\r\n\r\n")
    status = int(header.split(b" ", 2)[1])
    if b"transfer-encoding: chunked" in header.lower():
        content = _unchunk(content)
    return status, json.loads(content)


def _unchunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_line, _, rest = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += rest[:size]
        data = rest[size + 2 :]
    return out
