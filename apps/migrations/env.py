"""Alembic environment: the shared runner lives in kami (``kami.db.migrations.run_env``)."""

from kami.db.migrations import run_env

run_env()
