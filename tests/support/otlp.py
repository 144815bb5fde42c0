"""A real OTLP gRPC receiver (traces and logs) inside the test process."""

from __future__ import annotations

import threading
from concurrent import futures
from dataclasses import dataclass, field
from typing import Any

import grpc
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2, logs_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

__all__ = ["OtlpReceiver", "ReceivedSpan"]


@dataclass(frozen=True)
class ReceivedSpan:
    name: str
    trace_id: str
    span_id: str
    parent_span_id: str
    kind: int
    attributes: dict[str, Any] = field(default_factory=dict)


def _value(any_value: Any) -> Any:
    kind = any_value.WhichOneof("value")
    return getattr(any_value, kind) if kind else None


class OtlpReceiver(trace_service_pb2_grpc.TraceServiceServicer, logs_service_pb2_grpc.LogsServiceServicer):
    def __init__(self, port: int = 0) -> None:
        self.spans: list[ReceivedSpan] = []
        self.logs: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(self, self.server)
        logs_service_pb2_grpc.add_LogsServiceServicer_to_server(self, self.server)
        self.port = self.server.add_insecure_port(f"127.0.0.1:{port}")

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> OtlpReceiver:
        self.server.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.stop(grace=None)

    def Export(self, request: Any, context: Any) -> Any:  # noqa: N802 - the gRPC method name
        if isinstance(request, trace_service_pb2.ExportTraceServiceRequest):
            with self._lock:
                for resource in request.resource_spans:
                    for scope in resource.scope_spans:
                        for span in scope.spans:
                            self.spans.append(
                                ReceivedSpan(
                                    name=span.name,
                                    trace_id=span.trace_id.hex(),
                                    span_id=span.span_id.hex(),
                                    parent_span_id=span.parent_span_id.hex(),
                                    kind=span.kind,
                                    attributes={a.key: _value(a.value) for a in span.attributes},
                                )
                            )
            return trace_service_pb2.ExportTraceServiceResponse()
        with self._lock:
            for resource in request.resource_logs:
                service = {a.key: _value(a.value) for a in resource.resource.attributes}.get("service.name")
                for scope in resource.scope_logs:
                    for record in scope.log_records:
                        self.logs.append(
                            {
                                "body": _value(record.body),
                                "trace_id": record.trace_id.hex(),
                                "service": service,
                                "attributes": {a.key: _value(a.value) for a in record.attributes},
                            }
                        )
        return logs_service_pb2.ExportLogsServiceResponse()
