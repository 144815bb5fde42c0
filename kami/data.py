"""The data-layer API applications use: base models, repositories, services, pagination, transactions,
statements compiled once for hot paths, and the audit trail."""

from kami.db.audit import AuditContext, AuditRecord, AuditTrail
from kami.db.models import ACCOUNT_ID, AppScoped, Model, Versioned
from kami.db.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, PageParams
from kami.db.precompiled import Precompiled
from kami.db.repository import Repository
from kami.db.service import Service
from kami.db.transaction import TransactionAbortedError, after_commit, transaction
from kami.db.types import PreciseDateTimeUTC, exact_string

__all__ = [
    "ACCOUNT_ID",
    "DEFAULT_PAGE_SIZE",
    "MAX_PAGE_SIZE",
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
    "exact_string",
    "transaction",
]
