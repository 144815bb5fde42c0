"""The process's OpenTelemetry tracer provider and Litestar's OpenTelemetry plugin.

Nothing is exported unless an endpoint is configured (``KAMI_TELEMETRY_OTLP_ENDPOINT`` or the
standard ``OTEL_EXPORTER_OTLP_ENDPOINT``); spans still exist so every response has a real W3C trace id.
"""

from __future__ import annotations

import os
from typing import Any

from litestar.plugins.opentelemetry import OpenTelemetryConfig, OpenTelemetryPlugin
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

from kami.settings import Settings

__all__ = ["Telemetry", "build_telemetry"]


class Telemetry:
    """Owns the tracer provider; ``plugin`` is what the Litestar app installs."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.service_name = (
            settings.telemetry.service_name or os.environ.get("OTEL_SERVICE_NAME") or settings.app.name
        )
        resource = Resource.create({"service.name": self.service_name})
        sampler = self._sampler()
        self.tracer_provider = TracerProvider(resource=resource, sampler=sampler)
        self.endpoint = settings.telemetry.otlp_endpoint or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "")
        _install_global(self.tracer_provider)
        self.plugin = OpenTelemetryPlugin(OpenTelemetryConfig(tracer_provider=self.tracer_provider))

    def _sampler(self) -> Any:
        if os.environ.get("OTEL_TRACES_SAMPLER"):
            from opentelemetry.sdk.trace.sampling import _get_from_env_or_default

            return _get_from_env_or_default()
        return ParentBased(TraceIdRatioBased(self.settings.sampling_ratio))

    def shutdown(self) -> None:
        self.tracer_provider.shutdown()


_global_installed = False


def _install_global(provider: TracerProvider) -> None:
    """The first provider of the process becomes the global one (instrumentations and jobs use it);
    OpenTelemetry allows setting it only once."""
    global _global_installed
    if not _global_installed:
        trace.set_tracer_provider(provider)
        _global_installed = True


def build_telemetry(settings: Settings) -> Telemetry:
    return Telemetry(settings)
