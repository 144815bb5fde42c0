"""Which peers are trusted proxies (``KAMI_RATELIMIT_TRUSTED_PROXIES``), and what they may tell us:
the client's address (``X-Forwarded-For``), the request id, the original scheme. One place decides, so
the rate limiter, the access log and the security headers never disagree about whom to believe."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from functools import lru_cache

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Scope

__all__ = ["TrustedProxies"]


class TrustedProxies:
    def __init__(self, proxies: Sequence[str]) -> None:
        self.networks = [ipaddress.ip_network(p, strict=False) for p in proxies]
        # Asked on every request for the same few peers: parsing the address is most of the cost.
        self._cached_trusts = lru_cache(maxsize=4096)(self._trusts)

    def trusts(self, address: str) -> bool:
        return self._cached_trusts(address)

    def _trusts(self, address: str) -> bool:
        if not self.networks:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.networks)

    def trusts_peer(self, scope: Scope) -> bool:
        return self.trusts(str((scope.get("client") or ("", 0))[0]))

    def client_address(self, scope: Scope) -> str:
        """The peer, or behind trusted proxies the right-most ``X-Forwarded-For`` hop none of them added."""
        peer = str((scope.get("client") or ("unknown", 0))[0])
        if not self.networks or not self.trusts(peer):
            return peer
        forwarded = str(MutableScopeHeaders(scope).get("x-forwarded-for") or "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        for hop in reversed(hops):
            if not self.trusts(hop):
                return hop
        return peer
