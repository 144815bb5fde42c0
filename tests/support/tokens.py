"""Bearer headers signed the way a kami server with this key signs them (issuer and audience "kami")."""

from __future__ import annotations

import uuid

from kami.security import TokenSigner

__all__ = ["bearer", "signer"]


def signer(key: str) -> TokenSigner:
    return TokenSigner(key, issuer="kami", audience="kami")


def bearer(key: str, role: str = "admin", subject: str | None = None, tier: str = "free") -> dict[str, str]:
    """``{"Authorization": "Bearer ..."}`` for ``subject`` (a fresh id by default) in ``role``."""
    token = signer(key).issue(subject or str(uuid.uuid4()), role, tier=tier)[0]
    return {"Authorization": f"Bearer {token}"}
