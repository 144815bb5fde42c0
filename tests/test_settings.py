from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest

from kami.security.tokens import TokenSigner
from kami.settings import DEFAULT_SECRET_KEY, Settings, SettingsError, load_settings, masked

STRONG_KEY = "k" * 40


def test_defaults_are_the_embedded_profile(make_settings: Callable[..., Settings]) -> None:
    s = make_settings()
    assert s.app.environment == "development"
    assert s.uses_embedded_database
    assert s.database_url.startswith("sqlite+aiosqlite:///")
    assert s.should_auto_migrate
    assert (s.database.pool_size, s.database.max_overflow, s.database.pool_recycle) == (20, 0, 3600)
    assert s.database.pre_ping is True
    assert s.database.echo is False
    assert s.redis.url == ""
    assert s.app.apps == ["apps.app_a", "apps.app_b"]
    assert s.sampling_ratio == 1.0


def test_environment_beats_env_file_beats_default(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        'KAMI_SERVER_PORT=9001\nexport KAMI_NAME="from-file"\n# comment\nKAMI_SERVER_WORKERS=3\nKAMI_REDIS_URL=redis://cache:6379/0\n'
    )
    s = load_settings({"KAMI_SERVER_PORT": "9002"}, env_file=env_file)
    assert s.server.port == 9002  # environment wins
    assert s.app.name == "from-file"  # .env wins over default
    assert s.server.workers == 3
    assert s.server.host == "127.0.0.1"  # default


def test_lists_are_comma_separated(make_settings: Callable[..., Settings]) -> None:
    s = make_settings(KAMI_APPS="apps.app_b", KAMI_CORS_ORIGINS="https://a.example, https://b.example")
    assert s.app.apps == ["apps.app_b"]
    assert s.security.cors_origins == ["https://a.example", "https://b.example"]


def test_wrong_type_names_the_variable(make_settings: Callable[..., Settings]) -> None:
    with pytest.raises(SettingsError) as info:
        make_settings(KAMI_SERVER_PORT="eighty", KAMI_ENVIRONMENT="prod")
    text = str(info.value)
    assert "KAMI_SERVER_PORT" in text
    assert "eighty" in text
    assert "KAMI_ENVIRONMENT" in text


def test_out_of_range_value_is_refused(make_settings: Callable[..., Settings]) -> None:
    with pytest.raises(SettingsError, match="KAMI_SERVER_PORT"):
        make_settings(KAMI_SERVER_PORT="70000")


def test_production_refuses_embedded_defaults_debug_and_weak_key(
    make_settings: Callable[..., Settings],
) -> None:
    with pytest.raises(SettingsError) as info:
        make_settings(KAMI_ENVIRONMENT="production", KAMI_DEBUG="true", KAMI_SECRET_KEY="short")
    problems = "\n".join(info.value.problems)
    for variable in ("KAMI_DEBUG", "KAMI_DATABASE_URL", "KAMI_REDIS_URL", "KAMI_SECRET_KEY"):
        assert variable in problems


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_only_development_accepts_the_public_default_key(
    make_settings: Callable[..., Settings], environment: str
) -> None:
    real = {"KAMI_DATABASE_URL": "mysql+asyncmy://u:p@db/kami", "KAMI_REDIS_URL": "redis://cache:6379/0"}
    with pytest.raises(SettingsError, match="KAMI_SECRET_KEY: the development key is public"):
        make_settings(KAMI_ENVIRONMENT=environment, KAMI_SECRET_KEY=DEFAULT_SECRET_KEY, **real)
    assert make_settings(KAMI_ENVIRONMENT="staging", KAMI_SECRET_KEY=STRONG_KEY, **real)


def test_the_development_key_satisfies_pyjwt_without_a_warning(
    make_settings: Callable[..., Settings],
) -> None:
    """PyJWT warns (InsecureKeyLengthWarning) about HMAC keys below 32 bytes, once per worker."""
    signer = TokenSigner(make_settings().security.secret_key, issuer="kami", audience="kami")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        token, _ = signer.issue("someone", "session-1")
        assert signer.verify(token).sub == "someone"


def test_production_with_real_services_is_accepted(make_settings: Callable[..., Settings]) -> None:
    s = make_settings(
        KAMI_ENVIRONMENT="production",
        KAMI_DATABASE_URL="mysql+asyncmy://u:p@db/kami",
        KAMI_REDIS_URL="redis://cache:6379/0",
        KAMI_SECRET_KEY=STRONG_KEY,
    )
    assert s.is_production
    assert not s.should_auto_migrate
    assert s.sampling_ratio == 0.1


def test_secrets_can_come_from_files(make_settings: Callable[..., Settings], tmp_path: Path) -> None:
    secret = tmp_path / "key"
    secret.write_text(STRONG_KEY + "\n")
    assert make_settings(KAMI_SECRET_KEY_FILE=str(secret)).security.secret_key == STRONG_KEY
    with pytest.raises(SettingsError, match="KAMI_SECRET_KEY_FILE"):
        make_settings(KAMI_SECRET_KEY_FILE=str(tmp_path / "absent"))


def test_database_url_from_parts(make_settings: Callable[..., Settings]) -> None:
    s = make_settings(KAMI_DATABASE_HOST="db", KAMI_DATABASE_USER="kami", KAMI_DATABASE_PASSWORD="p@ss")
    assert s.database_url == "mysql+asyncmy://kami:p%40ss@db/kami"
    assert not s.uses_embedded_database


def test_masked_hides_every_secret(make_settings: Callable[..., Settings]) -> None:
    s = make_settings(
        KAMI_DATABASE_URL="mysql+asyncmy://kami:topsecret@db/kami",
        KAMI_REDIS_URL="redis://:redispass@cache:6379/0",
        KAMI_SECRET_KEY=STRONG_KEY,
        KAMI_DATABASE_REPLICA_URLS="mysql+asyncmy://kami:replicapass@replica/kami",
    )
    text = repr(masked(s))
    for secret in ("topsecret", "redispass", STRONG_KEY, "replicapass"):
        assert secret not in text
    assert "db/kami" in text


def test_env_example_documents_every_variable_and_is_current() -> None:
    from kami.settings import describe_variables, env_example

    committed = (Path(__file__).parents[1] / ".env.example").read_text()
    assert committed == env_example(), "regenerate with: uv run kami config --example > .env.example"
    for name in ("KAMI_ENVIRONMENT", "KAMI_DATABASE_URL", "KAMI_REDIS_URL", "KAMI_SECRET_KEY", "KAMI_APPS"):
        assert f"# {name}=" in committed
    assert all(description for _, _, _, description in describe_variables())


# Values an operator might set, one per variable the defaults would not show; for free-form text the
# variable's own name (lowercased) will do. Every variable of every group must be here or free-form.
SET_BY_AN_OPERATOR = {
    "KAMI_ENVIRONMENT": "staging",
    "KAMI_APPS": "apps.app_b",
    "KAMI_LOG_FORMAT": "console",
    "KAMI_LOG_LEVEL": "DEBUG",
    "KAMI_DATABASE_URL": "mysql+asyncmy://kami@db/kami",
    "KAMI_DATABASE_DRIVER": "postgresql+asyncpg",
    "KAMI_DATABASE_REPLICA_URLS": "mysql+asyncmy://kami@replica/kami",
    "KAMI_REDIS_URL": "redis://cache:6379/3",
    "KAMI_MAIL_SECURITY": "tls",
    "KAMI_MAIL_SENDER": "shop <shop@example.com>",
    "KAMI_MAIL_LINK_BASE": "https://shop.example",
    "KAMI_RATELIMIT_DEFAULT": "7/minute",
    "KAMI_RATELIMIT_TIERS": "gold=70/minute",
    "KAMI_RATELIMIT_TRUSTED_PROXIES": "10.1.0.0/16",
    "KAMI_TELEMETRY_OTLP_ENDPOINT": "http://collector:4317",
    "KAMI_TELEMETRY_SAMPLING_RATIO": "0.25",
    "KAMI_SECRET_KEY": "k" * 40,
    "KAMI_CORS_ORIGINS": "https://a.example",
    "KAMI_ALLOWED_HOSTS": "api.example",
    "KAMI_DATABASE_AUTO_MIGRATE": "true",
}


def _changed(name: str, kind: str, default: str) -> str:
    """A valid value for the variable that differs from its default."""
    if name in SET_BY_AN_OPERATOR:
        return SET_BY_AN_OPERATOR[name]
    if kind == "bool":
        return "false" if default == "true" else "true"
    if kind in ("int", "float"):
        return str(int(float(default)) + 1)
    assert kind == "str", f"{name} ({kind}): give it a value in SET_BY_AN_OPERATOR"
    return name.lower()


def test_every_variable_of_every_group_reaches_kami_config(tmp_path: Path) -> None:
    """Set every variable the way an operator does (the environment of a subprocess) and read each one
    back from `kami config`: a group missing from the loader (KAMI_MAIL_* once was) fails here."""
    from kami.settings import describe_variables

    env = {k: v for k, v in os.environ.items() if not k.startswith("KAMI_")}
    env |= {name: _changed(name, kind, default) for name, kind, default, _ in describe_variables()}
    env |= {"KAMI_DATA_DIR": str(tmp_path / "data"), "KAMI_ENV_FILE": str(tmp_path / "none")}
    done = subprocess.run(
        [sys.executable, "-m", "kami", "config"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    settings = load_settings({k: v for k, v in env.items() if k.startswith("KAMI_")})
    for group, values in masked(settings).items():
        for field, value in values.items():
            assert shown[group][field] == value, (group, field)
    defaults = masked(load_settings({"KAMI_DATA_DIR": str(tmp_path / "data"), "KAMI_ENV_FILE": "/none"}))
    unchanged = [
        (group, field)
        for group, values in shown.items()
        for field, value in values.items()
        if value == defaults[group].get(field) and field not in ("data_dir", "effective_url")
    ]
    assert unchanged == [("security", "secret_key")], f"set but not read: {unchanged}"  # "***" either way
    assert settings.security.secret_key == env["KAMI_SECRET_KEY"]
