"""Which documented responses a real run reached: statuses per operation, from the OpenAPI document,
from schemathesis' HAR record of its traffic, and from probes for the failures every operation of a
kind shares (malformed body, oversized body, a user at an admin route)."""

from __future__ import annotations

import json
import re
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

__all__ = ["Operation", "documented", "observed_in_har", "probe_shared_failures"]

Operation = tuple[str, str]  # (METHOD, path template)
METHODS = ("get", "put", "post", "delete", "patch")


def documented(document: dict[str, Any]) -> dict[Operation, set[int]]:
    return {
        (method.upper(), template): {int(status) for status in operation.get("responses", {})}
        for template, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    }


def _matcher(templates: list[str]) -> list[tuple[re.Pattern[str], str]]:
    """Concrete paths back to templates; literal segments win (``/users/me`` over ``/users/{id}``)."""
    ordered = sorted(templates, key=lambda t: (t.count("{"), -len(t)))
    return [(re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(t)) + "$"), t) for t in ordered]


def observed_in_har(har: Path, operations: dict[Operation, set[int]]) -> dict[Operation, set[int]]:
    matchers = _matcher(sorted({template for _, template in operations}))
    seen: dict[Operation, set[int]] = defaultdict(set)
    for entry in json.loads(har.read_text())["log"]["entries"]:
        path = urlsplit(entry["request"]["url"]).path
        template = next((t for pattern, t in matchers if pattern.match(path)), None)
        if template is not None and entry["response"]["status"]:
            seen[(entry["request"]["method"].upper(), template)].add(int(entry["response"]["status"]))
    return seen


def probe_shared_failures(
    base_url: str,
    operations: dict[Operation, set[int]],
    admin: dict[str, str],
    user: dict[str, str],
    body_limit: int,
) -> dict[Operation, set[int]]:
    """Send every operation documenting it no token (401), a malformed JSON body (400) and a body over
    the limit (413) as an admin, and a plain user's token (403); return what each answered."""
    seen: dict[Operation, set[int]] = defaultdict(set)
    with httpx.Client(base_url=base_url, timeout=30) as client:
        # Logging out ends the session the other probes use: it goes last.
        for (method, template), statuses in sorted(
            operations.items(), key=lambda item: "logout" in item[0][1]
        ):
            path = re.sub(r"\{[^/]+?\}", str(uuid.uuid4()), template)
            json_headers = {**admin, "Content-Type": "application/json"}
            probes: list[tuple[dict[str, str], bytes | None]] = []
            if 401 in statuses:
                probes.append(({"Content-Type": "application/json"}, b"{}" if method != "GET" else None))
            if 400 in statuses:
                probes.append((json_headers, b'{"unterminated'))
            if 413 in statuses:
                probes.append((json_headers, b'{"x":"' + b"a" * body_limit + b'"}'))
            if 403 in statuses:
                probes.append((user, b"{}" if method != "GET" else None))
            for headers, body in probes:
                answer = client.request(
                    method, path, headers={**headers, "Connection": "close"}, content=body
                )
                seen[(method, template)].add(answer.status_code)
    return seen
