"""Tripwire for kami.overrides.upstream_warnings: each library still raises the warning kami silences."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from kami.overrides.upstream_warnings import UPSTREAM_WARNINGS, UpstreamWarning

# A fresh interpreter per entry: what raises the warning runs once per process (an import), or
# needs no server (redis-py's deprecation fires when the command is called, before it is sent).
TRIGGERS = {
    "advanced_alchemy": "import advanced_alchemy.mixins",
    "saq": "from redis.asyncio import Redis; Redis().setex('k', 1, 'v').close()",
}


@pytest.mark.parametrize("entry", UPSTREAM_WARNINGS, ids=lambda e: e.module)
def test_tripwire_the_library_still_warns(entry: UpstreamWarning) -> None:
    trigger = next(code for name, code in TRIGGERS.items() if entry.module.startswith(name))
    script = f"import warnings; warnings.simplefilter('error'); {trigger}"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    raised = re.search(rf"^{entry.category}: {entry.message}", done.stderr, re.M)
    assert raised, f"no longer warns: delete the entry from kami.overrides.upstream_warnings\n{done.stderr}"


def test_silenced_warnings_are_only_the_listed_ones() -> None:
    script = (
        "import warnings; from kami.overrides.upstream_warnings import silence_upstream_warnings\n"
        "warnings.simplefilter('error'); silence_upstream_warnings()\n"
        "import advanced_alchemy.mixins\n"
        "warnings.warn('kami itself', DeprecationWarning)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "DeprecationWarning: kami itself" in done.stderr, done.stderr
    assert "declarative_mixin" not in done.stderr
