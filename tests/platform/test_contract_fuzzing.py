"""schemathesis against kami's own OpenAPI document and a real server (MariaDB, Redis), as an admin:
no 5xx, every response conforms to its documented schema, content type and headers, bad input is
refused, authentication is never ignored, deleted resources stay gone.

Two checks are excluded, each a known gap in the document rather than in the server (see the notes
on issue #9): schema-valid requests refused (decimal strings such as prices and price filters carry
no pattern in the document, so an empty string looks valid), and the Allow header of Litestar's
automatic OPTIONS answers (it lists one handler's methods per path, not the path's). A third is a
false positive: schemathesis links POST /users to PUT /users/me, but "me" is the token's account, not
the one just created.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from kami.settings import Settings
from tests.conftest import service_url
from tests.support.servers import kami_env, run_kami
from tests.support.tokens import bearer

KEY = "f" * 40
KNOWN_GAPS = "positive_data_acceptance,allow_header_conformance,ensure_resource_availability"


def test_schemathesis_finds_no_server_errors_and_no_schema_violations(
    tmp_path: Path, mysql_at_head: Settings
) -> None:
    env = kami_env(
        tmp_path,
        KAMI_DATABASE_URL=mysql_at_head.database_url,
        KAMI_REDIS_URL=service_url("redis"),
        KAMI_SECRET_KEY=KEY,
        KAMI_RATELIMIT_ENABLED="false",
    )
    with run_kami(env, workers=2) as kami:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "schemathesis.cli",
                "run",
                f"{kami.url}/schema/openapi.json",
                "-H",
                f"Authorization: {bearer(KEY)['Authorization']}",
                "--checks",
                "all",
                "--exclude-checks",
                KNOWN_GAPS,
                "-n",
                "25",
                "--generation-deterministic",
                "--workers",
                "2",
                "--no-color",
            ],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
            cwd=tmp_path,  # its cache folder goes there, not into the repository
        )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    operations = re.search(r"Tested: (\d+)", output)
    cases = re.search(r"(\d+) generated", output)
    assert operations is not None, output[-3000:]
    assert cases is not None, output[-3000:]
    assert int(operations.group(1)) >= 25
    assert int(cases.group(1)) > 500
    print(f"\nschemathesis: {operations.group(1)} operations, {cases.group(1)} cases, no failures")
