"""The data-layer API applications use: base models, repositories, services, pagination, transactions,
statements compiled once for hot paths, and the audit trail."""

from kami.db.api_keys import ApiKeyInfo, keys_of, new_key, revoke_key
from kami.db.audit import AuditContext, AuditRecord, AuditTrail, read_events
from kami.db.models import AppScoped, Model, Versioned
from kami.db.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, PageParams
from kami.db.precompiled import Precompiled
from kami.db.repository import Repository
from kami.db.service import Service
from kami.db.session import session_scope
from kami.db.transaction import TransactionAbortedError, after_commit, transaction
from kami.db.types import PreciseDateTimeUTC

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_PAGE_SIZE",
    "ApiKeyInfo",
    "AppScoped",
    "AuditContext",
    "AuditRecord",
    "AuditTrail",
    "Model",
    "PageParams",
    "PreciseDateTimeUTC",
    "Precompiled",
    "Repository",
    "Service",
    "TransactionAbortedError",
    "Versioned",
    "after_commit",
    "keys_of",
    "new_key",
    "read_events",
    "revoke_key",
    "session_scope",
    "transaction",
]
