from __future__ import annotations

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
