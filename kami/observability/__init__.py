"""Traces, logs and metrics: one OpenTelemetry pipeline and one structlog pipeline per process."""
