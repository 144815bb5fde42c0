"""Dead letters: what is kept of a job that failed its last attempt, so an operator can read why and
run it again (``kami jobs dead``, ``kami jobs replay KEY``).

Each record is a key of its own with a 30-day expiry, registered in one index set in the same atomic
step; a member whose record has expired or been replayed is skipped when read.
"""

from __future__ import annotations

import time
from typing import Any

import msgspec
import structlog
from saq import Job

from kami.observability.events import events
from kami.store.backend import Backend, Index

__all__ = ["DEAD_LETTER_TTL", "DeadLetter", "keep", "keep_letter", "read_all", "take"]

log = structlog.get_logger("kami.jobs")
DEAD_LETTER_TTL = 30 * 86400.0
_INDEX = "jobs:dead"
_PREFIX = "jobs:dead:"


class DeadLetter(msgspec.Struct):
    function: str
    key: str
    attempts: int
    error: str | None
    kwargs: dict[str, Any]
    failed_at: float


async def keep(backend: Backend, job: Job) -> None:
    letter = DeadLetter(job.function, job.key, job.attempts, job.error, dict(job.kwargs or {}), time.time())
    await keep_letter(backend, letter)
    events.increment("jobs_dead", function=job.function)
    log.error(
        "job failed for good", function=job.function, key=job.key, attempts=job.attempts, error=job.error
    )


async def keep_letter(backend: Backend, letter: DeadLetter) -> None:
    index = Index([_INDEX], letter.key, DEAD_LETTER_TTL)
    await backend.set_if_unchanged(
        _PREFIX + letter.key, msgspec.json.encode(letter), DEAD_LETTER_TTL, {}, index
    )


async def read_all(backend: Backend) -> list[DeadLetter]:
    """Every dead letter still kept, oldest first."""
    members = await backend.members(_INDEX)
    if not members:
        return []
    found = await backend.get_many([_PREFIX + member for member in members])
    letters = [msgspec.json.decode(raw, type=DeadLetter) for raw in found if raw is not None]
    return sorted(letters, key=lambda letter: letter.failed_at)


async def take(backend: Backend, key: str) -> DeadLetter | None:
    """Remove and return one dead letter (to replay it); None when no such letter is kept."""
    raw = await backend.get(_PREFIX + key)
    if raw is None or not await backend.delete_if_value(_PREFIX + key, raw):
        return None  # gone, or another replay took it first
    return msgspec.json.decode(raw, type=DeadLetter)
