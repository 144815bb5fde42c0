"""The one Alembic history of every app's tables (run with ``kami db ...``)."""
