"""compose.yaml, the Swarm stack and the Kubernetes overlays: valid by real validators, and true to
the promises operators rely on (probe paths exist, ports and users match the image, timeouts add up).
"""

from __future__ import annotations

import ipaddress
import re
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from kami.accounts.slice import with_accounts
from kami.app_spec import load_apps
from kami.settings import describe_variables, load_settings
from tests.conftest import tool_path

ROOT = Path(__file__).parents[2]
KNOWN_VARIABLES = {row[0] for row in describe_variables()}
OVERLAYS = ["staging", "production"]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
IMAGE_USER = int(re.search(r"^USER (\d+)", DOCKERFILE, re.M).group(1))  # type: ignore[union-attr]
IMAGE_ENV = dict(re.findall(r"(KAMI_\w+)=(\S+)", DOCKERFILE))
PORT = int(IMAGE_ENV["KAMI_SERVER_PORT"])


def _compose_file_is_valid(path: Path) -> None:
    result = subprocess.run(
        ["check-jsonschema", "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _seconds(value: str) -> int:
    match = re.fullmatch(r"(\d+)s", value)
    assert match, value
    return int(match.group(1))


def _loads_in_production(environment: dict[str, str], tmp_path: Path) -> None:
    """The variables a manifest sets are real settings, and with its secrets they pass production's checks."""
    env = dict(environment)
    for name in [n for n in env if n.endswith("_FILE")]:
        assert name.removesuffix("_FILE") in KNOWN_VARIABLES, name
        secret = tmp_path / name.lower()
        password = "s3cret-" + "x" * 40
        secret.write_text(f"redis://:{password}@redis:6379/0" if "REDIS_URL" in name else password)
        env[name] = str(secret)
    unknown = {n for n in env if n.startswith("KAMI_") and not n.endswith("_FILE")} - KNOWN_VARIABLES
    assert not unknown, f"not kami settings: {unknown}"
    settings = load_settings({**env, "KAMI_ENV_FILE": str(tmp_path / "absent.env")})
    assert settings.is_production


def _shutdown_budget(environment: dict[str, str]) -> int:
    return int(environment["KAMI_SERVER_DRAIN_SECONDS"]) + int(environment["KAMI_SERVER_GRACEFUL_TIMEOUT"])


def _longest_job() -> int:
    """The longest timeout of any job the default apps and kami declare: a worker's stop waits for it."""
    from kami.jobs import PLATFORM_JOBS, collect

    apps = load_apps(load_settings({"KAMI_ENV_FILE": "/nonexistent"}).app.apps)
    return max(job.spec.timeout for job in collect(apps, PLATFORM_JOBS).values())


def _worker_probe_port() -> int:
    return int(load_settings({"KAMI_ENV_FILE": "/nonexistent"}).jobs.port)


def _worker_stops_gracefully(service: dict[str, Any]) -> None:
    """A Compose/Swarm worker: probed on its own port, given longer than the longest job to stop."""
    assert service["command"] == ["worker"]
    assert f"127.0.0.1:{_worker_probe_port()}/health/live" in " ".join(service["healthcheck"]["test"])
    assert _seconds(service["stop_grace_period"]) > _longest_job()


def _backs_up_with_the_script(service: dict[str, Any]) -> None:
    assert service["image"].startswith("mysql:")
    assert service["command"] == ["bash", "/opt/kami-backup/mysql.sh", "backup"]
    assert (ROOT / "infra/backup/mysql.sh").is_file()
    assert {"MYSQL_HOST", "MYSQL_DATABASE", "MYSQL_USER", "BACKUP_DIR"} <= set(service["environment"])


def _paths_served() -> set[str]:
    from kami.pipeline.app import create_app

    settings = load_settings({"KAMI_ENV_FILE": "/nonexistent"})
    return {route.path for route in create_app(settings).routes}


# --- compose.yaml -------------------------------------------------------------------------------


def test_compose_file_is_valid() -> None:
    _compose_file_is_valid(ROOT / "compose.yaml")


def test_compose_waits_long_enough_for_a_graceful_stop() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    kami = compose["services"]["kami"]
    defaults = {name: default for name, _, default, _ in describe_variables()}
    assert _seconds(kami["stop_grace_period"]) > _shutdown_budget(defaults)
    observability = {n for n, s in compose["services"].items() if "observability" in s.get("profiles", [])}
    assert observability == {"otel-collector", "jaeger"}
    mail = {n for n, s in compose["services"].items() if "mail" in s.get("profiles", [])}
    assert mail == {"mailpit"}  # a catcher for development, never started by a plain `up`
    _worker_stops_gracefully(compose["services"]["worker"])
    backup = compose["services"]["backup"]
    assert backup["profiles"] == ["backup"]  # one-shot: docker compose run --rm backup
    assert backup["restart"] == "no"
    _backs_up_with_the_script(backup)
    assert "./infra/backup:/opt/kami-backup:ro" in backup["volumes"]
    collector = yaml.safe_load((ROOT / "infra/observability/otel-collector.yaml").read_text())
    assert collector["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"].endswith(":4317")


# --- Docker Swarm --------------------------------------------------------------------------------

STACK_PATH = ROOT / "infra/swarm/stack.yaml"


def test_stack_file_is_valid() -> None:
    _compose_file_is_valid(STACK_PATH)


def test_stack_promises(tmp_path: Path) -> None:
    stack = yaml.safe_load(STACK_PATH.read_text())
    kami = stack["services"]["kami"]
    deploy = kami["deploy"]
    assert deploy["replicas"] == 3
    assert {"spread": "node.id"} in deploy["placement"]["preferences"]
    assert deploy["update_config"] == {
        "parallelism": 1,
        "delay": "10s",
        "order": "start-first",
        "failure_action": "rollback",
        "monitor": "30s",
    }
    assert deploy["restart_policy"]["condition"] == "any"
    limits = {name: s["deploy"]["resources"] for name, s in stack["services"].items()}
    assert limits["kami"] == {
        "reservations": {"cpus": "0.5", "memory": "512M"},
        "limits": {"cpus": "2", "memory": "2G"},
    }
    assert limits["mysql"] == {
        "reservations": {"cpus": "1", "memory": "2G"},
        "limits": {"cpus": "4", "memory": "8G"},
    }
    assert limits["redis"] == {
        "reservations": {"cpus": "0.5", "memory": "512M"},
        "limits": {"cpus": "2", "memory": "4G"},
    }
    assert stack["networks"]["backend"]["driver"] == "overlay"
    assert all(s["networks"] == ["backend"] for s in stack["services"].values())
    assert all(secret.get("external") for secret in stack["secrets"].values())
    assert kami["command"] == ["serve", "--migrate"]  # migrations under the database lock, then serve
    worker = stack["services"]["worker"]
    _worker_stops_gracefully(worker)
    assert worker["environment"] == kami["environment"]
    assert worker["deploy"]["replicas"] >= 2
    backup = stack["services"]["backup"]
    _backs_up_with_the_script(backup)
    assert backup["deploy"]["mode"] == "replicated-job"
    (config,) = backup["configs"]
    assert stack["configs"][config["source"]]["file"] == "../backup/mysql.sh"
    assert (STACK_PATH.parent / "../backup/mysql.sh").resolve().is_file()
    # Redis asks for the password it reads from a secret; kami reads the URL carrying it from one.
    redis = stack["services"]["redis"]
    assert "--requirepass" in " ".join(redis["command"])
    assert "/run/secrets/kami_redis_password" in " ".join(redis["command"])
    assert "REDISCLI_AUTH" in " ".join(redis["healthcheck"]["test"])
    assert kami["environment"]["KAMI_REDIS_URL_FILE"] == "/run/secrets/kami_redis_url"
    assert "KAMI_REDIS_URL" not in kami["environment"]
    assert "/health/live" in " ".join(kami["healthcheck"]["test"])
    assert kami["ports"][0]["target"] == PORT
    environment = {k: str(v) for k, v in kami["environment"].items()}
    assert _seconds(kami["stop_grace_period"]) > _shutdown_budget(environment)
    # Passwords only as files from Swarm secrets, never as values.
    assert not any("PASSWORD" in k and not k.endswith("_FILE") for k in environment)
    for service in stack["services"].values():
        for name, value in service.get("environment", {}).items():
            if name.endswith("_FILE"):
                assert str(value).removeprefix("/run/secrets/") in service["secrets"], name
    _loads_in_production(environment, tmp_path)
    assert ipaddress.ip_network(environment["KAMI_RATELIMIT_TRUSTED_PROXIES"])  # the proxy in front
    mysql = stack["services"]["mysql"]
    _fits_the_database(
        {k: v for k, v in environment.items() if not k.endswith("_FILE")},
        deploy["replicas"],
        _max_connections(mysql["command"]),
    )


# --- Kubernetes ----------------------------------------------------------------------------------


@cache
def rendered(overlay: str) -> list[dict[str, Any]]:
    kubectl = tool_path("kubectl", provided_by="the Kubernetes release (kustomize is built in)")
    result = subprocess.run(
        [kubectl, "kustomize", str(ROOT / "infra/k8s/overlays" / overlay)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def one(docs: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    found = [d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]
    assert len(found) == 1, f"{kind} {name}: {len(found)} found"
    return found[0]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_renders_and_validates_against_the_kubernetes_schemas(overlay: str) -> None:
    docs = rendered(overlay)
    kinds = sorted(d["kind"] for d in docs)
    expected = ["CronJob", "HorizontalPodAutoscaler", "Ingress", "PersistentVolumeClaim"]
    expected += ["ConfigMap"] * 2 + ["Deployment"] * 2 + ["PodDisruptionBudget"] * 2
    expected += ["NetworkPolicy"] * 5 + ["Service"] * 3 + ["StatefulSet"] * 2
    assert kinds == sorted(expected)
    for doc in docs:
        kubernetes_validate.validate(doc, kubernetes_validate.latest_version(), strict=True)
    assert {d["metadata"]["namespace"] for d in docs} == {
        "kami" if overlay == "production" else "kami-staging"
    }


def _max_connections(arguments: list[str]) -> int:
    (value,) = [a.split("=", 1)[1] for a in arguments if a.startswith("--max-connections=")]
    return int(value)


def _fits_the_database(environment: dict[str, str], replicas: int, max_connections: int) -> None:
    """Every pool of every worker of every replica at once, plus a migration job and an operator's
    session, within the server's ``max_connections``: past it answers turn into 503/5001."""
    checked = {**environment, "KAMI_ENVIRONMENT": "development", "KAMI_ENV_FILE": "/nonexistent"}
    checked.setdefault("KAMI_REDIS_URL", "redis://redis:6379/0")  # the real one is a secret file
    settings = load_settings(checked)  # the pool's settings; production's secrets are checked above
    database = settings.database
    assert settings.server.workers > 0, "one worker per CPU: the connection budget depends on the node"
    per_worker = 2 * (database.pool_size + database.max_overflow)  # ORM sessions and lean reads
    needed = replicas * settings.server.workers * per_worker + 2
    assert needed <= max_connections, (
        f"{needed} connections at full scale, the server allows {max_connections}"
    )


def _config(docs: list[dict[str, Any]]) -> dict[str, str]:
    return dict(one(docs, "ConfigMap", _config_name(docs))["data"])


def _config_name(docs: list[dict[str, Any]]) -> str:
    (name,) = [
        d["metadata"]["name"]
        for d in docs
        if d["kind"] == "ConfigMap" and "backup" not in d["metadata"]["name"]
    ]
    return str(name)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_deployment_promises(overlay: str, tmp_path: Path) -> None:
    docs = rendered(overlay)
    deployment = one(docs, "Deployment", "kami")
    spec = deployment["spec"]
    pod = spec["template"]["spec"]
    (server,) = pod["containers"]
    (migrate,) = pod["initContainers"]
    config = _config(docs)

    assert spec["replicas"] == (3 if overlay == "production" else 2)
    assert spec["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
    }
    assert server["resources"] == {
        "requests": {"cpu": "500m", "memory": "512Mi"},
        "limits": {"cpu": "2", "memory": "2Gi"},
    }
    assert server["args"] == ["serve"]
    assert migrate["args"] == ["migrate"]
    assert migrate["image"] == server["image"]

    served = _paths_served()
    probes = {kind: server[kind]["httpGet"] for kind in ("startupProbe", "livenessProbe", "readinessProbe")}
    assert probes["livenessProbe"]["path"] == probes["startupProbe"]["path"] == "/health/live"
    assert probes["readinessProbe"]["path"] == "/health/ready"
    assert {p["path"] for p in probes.values()} <= served
    assert server["ports"][0] == {"name": "http", "containerPort": PORT, "protocol": "TCP"}
    assert all(p["port"] == "http" for p in probes.values())

    # Timeouts add up: preStop sleep, then kami's drain and graceful stop, all inside the grace period.
    budget = pod["terminationGracePeriodSeconds"]
    needed = server["lifecycle"]["preStop"]["sleep"]["seconds"] + _shutdown_budget(config)
    assert needed < budget <= needed + 15
    readiness = server["readinessProbe"]
    assert readiness["periodSeconds"] * readiness["failureThreshold"] <= int(
        config["KAMI_SERVER_DRAIN_SECONDS"]
    )

    # Non-root as the image's user, read-only root, nothing extra allowed.
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == IMAGE_USER
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    for container in (server, migrate):
        context = container["securityContext"]
        assert context["readOnlyRootFilesystem"] is True
        assert context["allowPrivilegeEscalation"] is False
        assert context["capabilities"] == {"drop": ["ALL"]}
        mounts = {m["mountPath"] for m in container["volumeMounts"]}
        assert IMAGE_ENV["KAMI_DATA_DIR"].startswith(tuple(mounts))  # writable data folder
        references = {e["configMapRef"]["name"] for e in container["envFrom"]}
        assert references == {_config_name(docs)}

    secret_volume = next(v for v in pod["volumes"] if "secret" in v)
    assert secret_volume["secret"]["secretName"] == "kami-secrets"
    files = {f"/run/secrets/kami/{item['path']}" for item in secret_volume["secret"]["items"]}
    assert {v for k, v in config.items() if k.endswith("_FILE")} == files
    _loads_in_production({**config, "KAMI_ENVIRONMENT": "production"}, tmp_path)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_traffic_scaling_and_data_promises(overlay: str) -> None:
    docs = rendered(overlay)
    selector = one(docs, "Deployment", "kami")["spec"]["selector"]["matchLabels"]
    service = one(docs, "Service", "kami")
    assert service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["selector"] == selector
    assert service["spec"]["ports"][0]["targetPort"] == "http"

    ingress = one(docs, "Ingress", "kami")
    paths = {p["path"] for rule in ingress["spec"]["rules"] for p in rule["http"]["paths"]}
    apps = with_accounts(load_apps(load_settings({"KAMI_ENV_FILE": "/nonexistent"}).app.apps))
    assert paths == {spec.prefix for spec in apps} | {"/schema"}  # every app and the identity slice
    # Behind the ingress controller, whose X-Forwarded-For kami believes: each client counted apart.
    assert ipaddress.ip_network(_config(docs)["KAMI_RATELIMIT_TRUSTED_PROXIES"])
    deployment = one(docs, "Deployment", "kami")["spec"]["template"]
    (server,) = deployment["spec"]["containers"]
    ports = {p["name"]: p["containerPort"] for p in server["ports"]}
    metrics = int(_config(docs)["KAMI_SERVER_METRICS_PORT"])
    assert ports == {"http": PORT, "metrics": metrics}
    assert metrics != PORT
    assert deployment["metadata"]["annotations"]["prometheus.io/port"] == str(metrics)
    api_policy = one(docs, "NetworkPolicy", "kami-api")["spec"]["ingress"]
    assert {tuple(p["port"] for p in rule["ports"]) for rule in api_policy} == {("http",), ("metrics",)}
    assert ("tls" in ingress["spec"]) == (overlay == "production")

    hpa = one(docs, "HorizontalPodAutoscaler", "kami")["spec"]
    targets = {m["resource"]["name"]: m["resource"]["target"]["averageUtilization"] for m in hpa["metrics"]}
    assert targets == {"cpu": 70, "memory": 80}
    if overlay == "production":
        assert (hpa["minReplicas"], hpa["maxReplicas"]) == (3, 10)
    mysql_pod = one(docs, "StatefulSet", "kami-mysql")["spec"]["template"]["spec"]
    mysql = mysql_pod["containers"][0]
    # MySQL's passwords as files from the secret, never as environment values.
    secret_env = {e["name"]: e["value"] for e in mysql["env"] if e["name"].endswith("_PASSWORD_FILE")}
    assert set(secret_env) == {"MYSQL_PASSWORD_FILE", "MYSQL_ROOT_PASSWORD_FILE"}
    assert not [e for e in mysql["env"] if "valueFrom" in e]
    mounted = {m["name"]: m["mountPath"] for m in mysql["volumeMounts"]}
    (volume,) = [v for v in mysql_pod["volumes"] if v["name"] == "secrets"]
    files = {f"{mounted['secrets']}/{item['path']}" for item in volume["secret"]["items"]}
    assert set(secret_env.values()) == files
    config = _config(docs)
    _fits_the_database(
        {k: v for k, v in config.items() if not k.endswith("_FILE")},
        hpa["maxReplicas"],
        _max_connections(mysql["args"]),
    )
    assert one(docs, "PodDisruptionBudget", "kami")["spec"]["selector"]["matchLabels"] == selector

    storage = {"kami-mysql": "20Gi", "kami-redis": "5Gi"}
    for name, size in storage.items():
        stateful = one(docs, "StatefulSet", name)["spec"]
        assert stateful["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] == size
        headless = one(docs, "Service", stateful["serviceName"])
        assert headless["spec"]["clusterIP"] == "None"
        policy = one(docs, "NetworkPolicy", name)["spec"]
        assert policy["podSelector"]["matchLabels"] == stateful["selector"]["matchLabels"]
        (rule,) = policy["ingress"]
        assert rule["from"] == [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "kami"}}}]
    assert config["KAMI_DATABASE_HOST"] == "kami-mysql"
    # Redis asks for a password from the secret; kami reads the URL carrying it from the secret too.
    assert "KAMI_REDIS_URL" not in config
    assert config["KAMI_REDIS_URL_FILE"] == "/run/secrets/kami/redis-url"
    redis = one(docs, "StatefulSet", "kami-redis")["spec"]["template"]["spec"]
    (server,) = redis["containers"]
    assert "--requirepass" in server["command"][-1]
    assert "REDISCLI_AUTH" in server["livenessProbe"]["exec"]["command"][-1]
    mounted = {m["mountPath"] for m in server["volumeMounts"]}
    assert any(f"{path}/redis-password" in server["command"][-1] for path in mounted)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_worker_promises(overlay: str) -> None:
    docs = rendered(overlay)
    worker = one(docs, "Deployment", "kami-worker")
    api = one(docs, "Deployment", "kami")
    pod = worker["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    (api_container,) = api["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["worker"]
    assert container["image"] == api_container["image"]
    assert container["envFrom"] == api_container["envFrom"]
    assert worker["spec"]["replicas"] >= 2
    (port,) = container["ports"]
    assert port["containerPort"] == _worker_probe_port()
    assert worker["spec"]["template"]["metadata"]["annotations"]["prometheus.io/port"] == str(
        _worker_probe_port()
    )
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"] == {"path": "/health/live", "port": port["name"]}
    assert _longest_job() < pod["terminationGracePeriodSeconds"] <= _longest_job() + 15
    assert pod["securityContext"]["runAsUser"] == IMAGE_USER
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    selector = worker["spec"]["selector"]["matchLabels"]
    assert one(docs, "PodDisruptionBudget", "kami-worker")["spec"]["selector"]["matchLabels"] == selector
    assert selector != api["spec"]["selector"]["matchLabels"]  # the API's Service never routes to it
    secret_items = {i["key"] for v in pod["volumes"] if "secret" in v for i in v["secret"]["items"]}
    config = _config(docs)
    needed = {v.rsplit("/", 1)[1] for k, v in config.items() if k.endswith("_FILE")}
    assert needed <= secret_items


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_backup_cronjob(overlay: str) -> None:
    docs = rendered(overlay)
    cron = one(docs, "CronJob", "kami-backup")["spec"]
    assert cron["concurrencyPolicy"] == "Forbid"
    pod = cron["jobTemplate"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"].startswith("mysql:")
    command = container["command"]
    assert command[0] == "bash"
    assert command[-1] == "backup"
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    script_folder, script = command[1].rsplit("/", 1)
    scripts = one(
        docs,
        "ConfigMap",
        volumes[next(n for n, p in mounts.items() if p == script_folder)]["configMap"]["name"],
    )
    assert scripts["data"][script] == (ROOT / "infra/backup" / script).read_text()  # the tested script
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["MYSQL_HOST"] == _config(docs)["KAMI_DATABASE_HOST"]
    assert env["MYSQL_PASSWORD_FILE"].startswith(mounts["secrets"])
    claim = volumes[next(n for n, p in mounts.items() if p == env["BACKUP_DIR"])]["persistentVolumeClaim"]
    one(docs, "PersistentVolumeClaim", claim["claimName"])


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_network_policies_cover_every_kami_pod(overlay: str) -> None:
    """Every pod kami runs (API, worker, backup) is selected by a policy that limits both ways."""
    docs = rendered(overlay)
    policies = [d["spec"] for d in docs if d["kind"] == "NetworkPolicy"]
    pods = [d["spec"]["template"]["metadata"]["labels"] for d in docs if d["kind"] == "Deployment"]
    pods.append(one(docs, "CronJob")["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"])
    for labels in pods:
        (policy,) = [
            p
            for p in policies
            if p["podSelector"]["matchLabels"].items() <= labels.items()
            and "app.kubernetes.io/component" in p["podSelector"]["matchLabels"]
        ]
        assert set(policy["policyTypes"]) == {"Ingress", "Egress"}
        reached = {port["port"] for rule in policy["egress"] for port in rule["ports"]}
        assert {3306, 53} <= reached
    api = next(
        p for p in policies if p["podSelector"]["matchLabels"].get("app.kubernetes.io/component") == "api"
    )
    served, scraped = api["ingress"]
    assert [port["port"] for port in served["ports"]] == ["http"]
    assert len(served["from"]) == 2  # the ingress controller and Prometheus, nothing else
    assert [port["port"] for port in scraped["ports"]] == ["metrics"]
    assert scraped["from"] == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
    ]  # metrics: Prometheus only


_PINNED = re.compile(r"^(?P<name>[\w./-]+):(?P<tag>[\w.-]+)@sha256:[0-9a-f]{64}$")
_OWN_OR_EXACT = {"${KAMI_IMAGE:-kami:latest}"}  # kami's own image: per release, set by each overlay
# The observability and mail profiles' images (development only): exact versions, no digest record at
# hand (infra/README.md).
_VERSION_TAGGED = ("otel/opentelemetry-collector-contrib:", "jaegertracing/jaeger:", "axllent/mailpit:")


def _images(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [str(node["image"])] if isinstance(node.get("image"), str) else []
        return found + [image for value in node.values() for image in _images(value)]
    if isinstance(node, list):
        return [image for item in node for image in _images(item)]
    return []


def test_third_party_images_are_pinned_by_digest_with_their_tag() -> None:
    documents: list[Any] = [yaml.safe_load((ROOT / "compose.yaml").read_text())]
    documents.append(yaml.safe_load(STACK_PATH.read_text()))
    documents += [doc for overlay in OVERLAYS for doc in rendered(overlay)]
    digests: dict[str, set[str]] = {}
    for image in (image for doc in documents for image in _images(doc)):
        if image in _OWN_OR_EXACT or image.startswith(("kami:", *_VERSION_TAGGED)):
            continue
        match = _PINNED.match(image)
        assert match, f"{image}: pin it as name:tag@sha256:<digest>"
        digests.setdefault(match.group("name"), set()).add(image)
    assert set(digests) == {"mysql", "redis"}
    for name, references in digests.items():
        assert len(references) == 1, f"{name} is pinned to different builds: {sorted(references)}"
