"""Single-use links mailed to an account's owner: password resets and address checks.

A link carries a random token; only its SHA-256 is kept, in the store, for the link's lifetime, with the
account it was made for. The newest link of a kind is the only one that works: making one retires the
ones before it, and using one spends it (once, even when two race). The token exists only in the mail:
never in a job's arguments, a log line or a dead letter.
"""

from __future__ import annotations

import hashlib
import secrets

from kami.store.namespace import Store

__all__ = ["PREFIX", "RESET", "VERIFY", "LinkKind", "OneTimeLinks"]

PREFIX = "/accounts"  # where kami mounts the identity slice


class LinkKind:
    def __init__(self, name: str, seconds: int, path: str) -> None:
        self.name = name  # the store's word for it
        self.seconds = seconds  # how long a link works
        self.path = path  # what it opens, under KAMI_MAIL_LINK_BASE


RESET = LinkKind("reset", 3600, f"{PREFIX}/v1/auth/reset-password")  # an hour; a page with the form
VERIFY = LinkKind("verify", 7 * 86400, f"{PREFIX}/v1/auth/verify-email")  # a week


class OneTimeLinks:
    def __init__(self, store: Store) -> None:
        self.store = store

    def _token_key(self, kind: LinkKind, token: str) -> str:
        return self.store.key(kind.name, hashlib.sha256(token.encode()).hexdigest())

    def _newest_key(self, kind: LinkKind, account_id: str) -> str:
        return self.store.key(f"{kind.name}-newest", account_id)

    async def issue(self, kind: LinkKind, account_id: str) -> str:
        """A new token for the account; the account's older links of this kind stop working."""
        token = secrets.token_urlsafe(32)
        digest = self._token_key(kind, token).encode()
        backend = self.store.backend
        await backend.set(self._token_key(kind, token), account_id.encode(), ttl=float(kind.seconds))
        await backend.set(self._newest_key(kind, account_id), digest, ttl=float(kind.seconds))
        return token

    async def redeem(self, kind: LinkKind, token: str) -> str | None:
        """The account the token was made for, spending it; None for a used, expired, retired or
        unknown token."""
        backend = self.store.backend
        key = self._token_key(kind, token)
        owner = await backend.get(key)
        if owner is None:
            return None
        newest = self._newest_key(kind, owner.decode())
        if await backend.get(newest) != key.encode() or not await backend.delete_if_value(key, owner):
            return None
        await backend.delete(newest)
        return owner.decode()

    async def retire(self, kind: LinkKind, account_id: str) -> None:
        """Every outstanding link of this kind stops working (a new password was set)."""
        await self.store.backend.delete(self._newest_key(kind, account_id))
