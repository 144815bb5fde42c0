"""The shared-store API applications use: their namespaced store, the cache, and the lock."""

from kami.store.cache import Cache
from kami.store.lock import DistributedLock, LockNotAcquiredError
from kami.store.namespace import Store

__all__ = ["Cache", "DistributedLock", "LockNotAcquiredError", "Store"]
