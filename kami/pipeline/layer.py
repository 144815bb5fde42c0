"""The base of kami's request layers: built once per application, shared by every router.

Litestar deep-copies a router when it is registered, middleware instances included: a layer's
collaborators (the store's connection, the identity provider, the admission count) would be copied
per app, and a copied count limits each app separately instead of the worker. A layer is one object
whose collaborators are the process's, so copying it gives it back as it is.
"""

from __future__ import annotations

from typing import Any

from litestar.middleware import ASGIMiddleware

__all__ = ["Layer"]


class Layer(ASGIMiddleware):
    def __copy__(self) -> Layer:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Layer:
        return self
