"""The W3C trace id of the current request, as the envelope and the logs carry it."""

from __future__ import annotations

import secrets

from opentelemetry import trace

__all__ = ["current_span_id", "current_trace_id"]


def current_trace_id() -> str:
    """32 lowercase hex digits: the active span's trace id, or a fresh random one outside any span."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        return format(context.trace_id, "032x")
    return secrets.token_hex(16)


def current_span_id() -> str | None:
    context = trace.get_current_span().get_span_context()
    return format(context.span_id, "016x") if context.is_valid else None
