"""The ``kami`` command line, one module per command group, and the processes it starts.

| command | module |
|---|---|
| ``serve``, ``worker`` | :mod:`kami.cli.serve` (Granian itself: :mod:`kami.cli.serving`) |
| ``migrate``, ``db ...`` | :mod:`kami.cli.database` |
| ``config``, ``reference`` | :mod:`kami.cli.configuration` |
| ``apps``, ``new-app`` | :mod:`kami.cli.apps` (the scaffold: :mod:`kami.cli.scaffold`) |
| ``users ...``, ``roles ...`` | :mod:`kami.accounts.cli` (the identity slice's) |
| an app's own | its ``AppSpec.commands`` |

Exit codes: 0 success, 1 a command failed, 2 invalid configuration or usage.
"""

from kami.cli.main import main

__all__ = ["main"]
