"""Security headers on every response (``before_send``), errors and unknown routes included.

API responses forbid everything a browser could do with them (``default-src 'none'``); the docs
pages under ``/schema`` get a policy that allows only kami's own vendored assets, so even the docs
cannot pull a script from elsewhere. HSTS is sent only when the request came over HTTPS — directly,
or through a trusted proxy that says so in ``X-Forwarded-Proto``.
"""

from __future__ import annotations

from litestar.types import Message, Scope

from kami.accounts.links import RESET
from kami.overrides.response_headers import SendHook, set_response_headers
from kami.routes import DOCS_PATH
from kami.security.trusted_proxies import TrustedProxies

__all__ = ["security_headers"]

ALWAYS = (
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
)
API_POLICY = "default-src 'none'; frame-ancestors 'none'"
DOCS_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
# kami's one page for people (the mailed reset link): its own form, inline style, nothing else.
PAGE_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"


def _encoded(*headers: tuple[str, str]) -> tuple[tuple[bytes, bytes], ...]:
    return tuple((name.encode(), value.encode()) for name, value in headers)


API_HEADERS = _encoded(*ALWAYS, ("content-security-policy", API_POLICY))
DOCS_HEADERS = _encoded(*ALWAYS, ("content-security-policy", DOCS_POLICY))
PAGE_HEADERS = _encoded(*ALWAYS, ("content-security-policy", PAGE_POLICY))
HSTS_HEADER = _encoded(("strict-transport-security", HSTS))


def security_headers(proxies: TrustedProxies) -> SendHook:
    def over_https(scope: Scope) -> bool:
        if scope.get("scheme") == "https":
            return True
        if not proxies.trusts_peer(scope):
            return False
        forwarded = dict(scope.get("headers", ())).get(b"x-forwarded-proto", b"")
        return forwarded.split(b",")[0].strip().lower() == b"https"

    async def add(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        path = str(scope.get("path", ""))
        headers = (
            DOCS_HEADERS
            if path.startswith(DOCS_PATH)
            else PAGE_HEADERS
            if path == RESET.path
            else API_HEADERS
        )
        set_response_headers(message, headers + HSTS_HEADER if over_https(scope) else headers)

    return add
