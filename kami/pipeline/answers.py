"""Answers a layer keeps and gives again: the response cache's hits and the idempotency layer's
replays. Both capture the handler's answer, keep only the envelope's ``code``, ``message`` and
``data``, and answer later with a fresh ``trace_id`` and ``timestamp`` (the replaying request's own,
which ``X-Trace-Id`` repeats), compressed as the application's own compression would."""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from typing import Any

import msgspec
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from kami.envelope import ApiResponse, current_trace_id, now

__all__ = ["Captured", "KeptAnswer", "capture", "send_kept"]

GZIP_MINIMUM = 1024  # as the application's compression: responses over 1 KB, level 6


class KeptAnswer(msgspec.Struct):
    """What is kept of an envelope answer."""

    status: int
    code: int
    message: str
    data: msgspec.Raw


@dataclass
class Captured:
    """A handler's answer, held back: its messages as sent, and its body decompressed."""

    status: int
    messages: list[Message]
    body: bytes

    def kept(self) -> KeptAnswer | None:
        """The envelope to keep, or None unless the answer is a success (2xx and code 0)."""
        if not 200 <= self.status < 300 or not self.body:
            return None
        try:
            fields: dict[str, Any] = msgspec.json.decode(self.body)
        except msgspec.DecodeError:
            return None
        if not isinstance(fields, dict) or fields.get("code") != 0 or "trace_id" not in fields:
            return None
        data = msgspec.Raw(msgspec.json.encode(fields.get("data")))
        return KeptAnswer(self.status, fields["code"], fields["message"], data)

    async def send_to(self, send: Send) -> None:
        for message in self.messages:
            await send(message)


async def capture(next_app: ASGIApp, scope: Scope, receive: Receive) -> Captured:
    messages: list[Message] = []
    chunks: list[bytes] = []
    status = 0

    async def collect(message: Message) -> None:
        nonlocal status
        messages.append(message)
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await next_app(scope, receive, collect)
    body = b"".join(chunks)
    start = next((m for m in messages if m["type"] == "http.response.start"), None)
    if body and start is not None and (b"content-encoding", b"gzip") in list(start.get("headers", [])):
        body = gzip.decompress(body)  # kept plain: it is encoded again, with a fresh trace id
    return Captured(status, messages, body)


async def send_kept(
    kept: KeptAnswer, scope: Scope, send: Send, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    """Answer ``kept`` again as this request's own envelope (its trace id, the current time)."""
    envelope = ApiResponse(
        code=kept.code, message=kept.message, data=kept.data, trace_id=current_trace_id(), timestamp=now()
    )
    body = msgspec.json.encode(envelope)
    extra = list(headers or [])
    if len(body) >= GZIP_MINIMUM and b"gzip" in dict(scope["headers"]).get(b"accept-encoding", b""):
        body = gzip.compress(body, compresslevel=6)
        extra.append((b"content-encoding", b"gzip"))
    extra += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": kept.status, "headers": extra})
    await send(
        {
            "type": "http.response.body",
            "body": b"" if scope.get("method") == "HEAD" else body,
            "more_body": False,
        }
    )
