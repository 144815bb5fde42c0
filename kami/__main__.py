"""``python -m kami`` is the ``kami`` command."""

from kami.cli import main

main()
