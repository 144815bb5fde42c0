"""An app whose job always fails, for the worker and dead-letter tests (mounted with
``KAMI_APPS=tests.support.jobbed_app``)."""

from __future__ import annotations

from litestar import post
from litestar.di import NamedDependency
from litestar.params import FromPath

from kami import ApiResponse, AppSpec, success
from kami.jobs import JobContext, Jobs, JobSpec


async def always_fails(context: JobContext, order: int) -> None:
    raise RuntimeError(f"the mail server refused order {order}")


@post("/fail/{order:int}", summary="Queue a job that fails", description="For tests.", status_code=202)
async def queue_failure(order: FromPath[int], jobs: NamedDependency[Jobs]) -> ApiResponse[str]:
    return success(await jobs.enqueue(always_fails, order=order))


app = AppSpec(
    name="jobbed",
    prefix="/jobbed",
    code_range=range(94100, 94200),
    route_handlers=[queue_failure],
    jobs=[JobSpec(always_fails, retries=2, retry_delay=0.01, timeout=5)],
)
