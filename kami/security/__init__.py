"""Authentication and authorization as apps use them: the caller's identity, the permissions apps
declare, and the guard that asks for one. The identity provider behind them (accounts, sessions, API
keys) is the platform's identity slice, :mod:`kami.accounts`."""

from kami.security.identity import Identity, require
from kami.security.permissions import Permission

__all__ = ["Identity", "Permission", "require"]
