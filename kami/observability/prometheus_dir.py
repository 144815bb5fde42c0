"""The folder Granian workers share for Prometheus samples. Kept apart from the metrics module
because it must run before ``prometheus_client`` is first imported."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

__all__ = ["prepare_multiprocess_dir"]


def prepare_multiprocess_dir(data_dir: str) -> str:
    """Create (and wipe: stale samples of dead workers would be summed) the folder; export it."""
    folder = Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR") or Path(data_dir) / "prometheus").resolve()
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
    return str(folder)
