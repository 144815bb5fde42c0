"""Library overrides."""
