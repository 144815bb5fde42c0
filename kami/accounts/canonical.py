"""One identity per person: the form of an address or a name that lookups, uniqueness, the login
lockout and the recovery limits all use.

Unicode NFKC folds compatibility forms (fullwidth letters are the letters; ``mi`` + combining acute
is ``mía``) and case folding ignores case (``Admin`` is ``admin``, ``STRASSE`` is ``strasse``). Distinct
letters stay distinct (``mía`` is not ``mia``), whatever the database's collation would say: the
canonical columns compare byte for byte on MySQL/MariaDB (``utf8mb4_bin``), PostgreSQL and SQLite alike.
"""

from __future__ import annotations

import unicodedata

__all__ = ["canonical"]


def canonical(text: str) -> str:
    """NFKC, case-folded, NFKC again (case folding can un-normalise): Unicode's NFKC_Casefold."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text.strip()).casefold())
