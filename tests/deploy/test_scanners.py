"""checkov (the infrastructure scanner, from PyPI) over the rendered Kubernetes overlays and the
Dockerfile: every finding is either fixed or listed here with the reason it is not followed, and every
listed exception still matters (a check that passes again is taken off the list)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import yaml

from tests.conftest import tool_path
from tests.deploy.test_manifests import OVERLAYS, ROOT, rendered

NOT_FOLLOWED = {
    "CKV_K8S_43": "kami's own image by digest: it is built per release and pinned per environment by "
    "the overlay (images[].newTag, or digest at release); every third-party image is pinned by digest "
    "(test_manifests.py::test_third_party_images_are_pinned_by_digest_with_their_tag)",
    "CKV_K8S_15": "imagePullPolicy Always: images are pinned (digests, release tags), so IfNotPresent "
    "runs the same image without a registry round trip on every pod start",
    "CKV_K8S_40": "high UIDs: MySQL's and Redis's official images run as their own users (999), which "
    "own the data folders; kami's pods run as 10001",
    "CKV_K8S_22": "read-only root for MySQL: mysqld writes its socket and temporary files under /var "
    "(kami's, Redis's and the backup's containers are read-only)",
    "CKV_DOCKER_7": "the uv build stage's image comes from ARG UV_IMAGE (pinned to a version there), "
    "which the scanner does not expand",
}


def _findings(folder: Path, *targets: str) -> dict[str, set[str]]:
    checkov = tool_path("checkov", provided_by="PyPI's checkov (`.ci/run` installs it as a uv tool)")
    result = subprocess.run(
        [checkov, *targets, "--quiet", "--compact", "--skip-download", "-o", "json"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode in (0, 1), result.stderr[-2000:]  # 1: findings, which are judged below
    reports = json.loads(result.stdout)
    failed: dict[str, set[str]] = {}
    for report in reports if isinstance(reports, list) else [reports]:
        for check in report["results"]["failed_checks"]:
            failed.setdefault(check["check_id"], set()).add(check["resource"])
    return failed


def test_checkov_finds_nothing_but_what_is_not_followed_on_purpose(tmp_path: Path) -> None:
    for overlay in OVERLAYS:
        (tmp_path / f"{overlay}.yaml").write_text(yaml.safe_dump_all(rendered(overlay)))
    (tmp_path / "Dockerfile").write_text((ROOT / "Dockerfile").read_text())
    failed = _findings(
        tmp_path,
        *[arg for overlay in OVERLAYS for arg in ("-f", f"{overlay}.yaml")],
        "-f",
        "Dockerfile",
        "--framework",
        "kubernetes",
        "dockerfile",
    )
    unexpected = {check: sorted(where) for check, where in failed.items() if check not in NOT_FOLLOWED}
    assert not unexpected, f"new findings (fix them, or list them with a reason): {unexpected}"
    stale = sorted(set(NOT_FOLLOWED) - set(failed))
    assert not stale, f"no longer found, take them off NOT_FOLLOWED: {stale}"
    assert all(where.rsplit(".", 1)[1] in ("kami", "kami-worker") for where in failed["CKV_K8S_43"])
    # Only the third-party images' containers are exempted from the user and file-system checks.
    third_party = ("kami-mysql", "kami-redis", "kami-backup")
    for check in ("CKV_K8S_40", "CKV_K8S_22"):
        assert all(any(name in where for name in third_party) for where in failed[check]), failed[check]
