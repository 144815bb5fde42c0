"""The platform's identity slice, mounted at ``/accounts`` by kami itself: accounts, login and
sessions, recovery, roles and permissions, API keys, the audit trail, and their commands.

Apps authenticate through it without importing it (``identity: NamedDependency[Identity]`` and
``require(...)`` from :mod:`kami.security`); what they may know about accounts is exported here.
"""

from kami.accounts.directory import AccountDirectory, AccountSummary

__all__ = ["AccountDirectory", "AccountSummary"]
