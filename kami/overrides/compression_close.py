"""Close the request's gzip compressor when the answer never passed through the compression layer.

Litestar's ``CompressionMiddleware`` makes a ``GzipFile`` over a ``BytesIO`` for every request that
accepts gzip, and closes it only when a response body goes through its send wrapper. An error answered
by Litestar's exception layer (outside the compression layer: a 504 past a deadline, a 503, a 429 from
route middleware) never does, so the pair is left to the garbage collector; when an exception's
reference cycles (a cancellation, a driver error) make the collector free the ``BytesIO`` first,
Python 3.12+'s ``GzipFile.__del__`` writes into the closed buffer and prints "Exception ignored in:
<gzip ...> ValueError: I/O operation on closed file" — on stderr in a server, and as an error in
the tests. This subclass (Litestar's documented ``CompressionConfig(middleware_class=...)``) finds the
compressor in the send wrapper it built and closes it when the request ends, whatever happened.

Overrides: Litestar's ``CompressionMiddleware`` (reads the ``facade`` its send wrapper closes over).
Upstream: python/cpython#122727 (the close order of ``GzipFile`` and its buffer); litestar#3927 fixed
the close order where a body passes, not the path where none does (none filed for that).
Written for: litestar 2.25.0, CPython 3.12 and 3.13.
Tripwire: tests/overrides/test_compression_close.py — fails once the send wrapper no longer holds the
compressor as ``facade`` (then find it again, or drop this if Litestar closes it itself).
"""

from __future__ import annotations

import inspect
from typing import Any, cast

from litestar.middleware.compression import CompressionMiddleware
from litestar.types import Receive, Scope, Send

__all__ = ["ClosingCompressionMiddleware"]

_FACADES = "kami.compression_facades"  # scope key: the compressors this request's wrappers made


class ClosingCompressionMiddleware(CompressionMiddleware):
    def create_compression_send_wrapper(self, send: Send, compression_encoding: Any, scope: Scope) -> Send:
        wrapper = super().create_compression_send_wrapper(send, compression_encoding, scope)
        facade = inspect.getclosurevars(wrapper).nonlocals.get("facade")
        if facade is not None:
            cast("dict[str, Any]", scope).setdefault(_FACADES, []).append(facade)
        return wrapper

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            for facade in cast("dict[str, Any]", scope).pop(_FACADES, ()):
                facade.close()  # GzipFile.close is idempotent: nothing happens after a normal answer
