"""The shared Redis layer (or its in-memory stand-in for the embedded default)."""
