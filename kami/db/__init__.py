"""The shared SQLAlchemy layer (advanced-alchemy): one engine, one session per request, one history."""
