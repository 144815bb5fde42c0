"""Background jobs, as apps use them: declare with :class:`JobSpec`, receive a :class:`JobContext`,
enqueue through the ``jobs`` dependency (:class:`Jobs`). Mail goes out the same way:
``jobs.enqueue(send_mail, to=..., subject=..., body=...)``. The queue and worker live in
:mod:`kami.jobs.runner`."""

from kami.jobs.dead_letters import DEAD_LETTER_TTL, DeadLetter
from kami.jobs.mail import send_mail
from kami.jobs.platform import PLATFORM_JOBS
from kami.jobs.runner import (
    JobContext,
    Jobs,
    JobSpec,
    RegisteredJob,
    build_worker,
    collect,
    redis_queue,
)

__all__ = [
    "DEAD_LETTER_TTL",
    "PLATFORM_JOBS",
    "DeadLetter",
    "JobContext",
    "JobSpec",
    "Jobs",
    "RegisteredJob",
    "build_worker",
    "collect",
    "redis_queue",
    "send_mail",
]
