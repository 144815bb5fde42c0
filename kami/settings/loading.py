"""Reading the settings: ``KAMI_*`` environment variables, then an optional ``.env`` file, then defaults.

Every field of every group of :class:`Settings` is a variable ``KAMI_<PREFIX><FIELD>`` (the groups are
read from :class:`Settings` itself: a group cannot be forgotten), and may be given instead as
``<NAME>_FILE`` (a file holding the value, for Docker and Kubernetes secrets). Each variable is
parsed once, here, into the type the code uses (lists, rate limits, numbers...); everything wrong is
reported at once, one line per variable, with what it accepts.
"""

from __future__ import annotations

import ipaddress
import os
import typing
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import msgspec

from kami.routes import RateLimit
from kami.settings.groups import Group
from kami.settings.redis_address import RedisAddress, RedisAddressError
from kami.settings.root import Settings, SettingsError, cross_field_problems

__all__ = [
    "describe_variables",
    "env_example",
    "env_name",
    "get_settings",
    "groups",
    "load_settings",
    "masked",
    "read_env_file",
]


def groups() -> dict[str, type[Group]]:
    """Every settings group by its field name in :class:`Settings`, in declaration order."""
    hints = typing.get_type_hints(Settings)
    return {field.name: hints[field.name] for field in msgspec.structs.fields(Settings)}


def env_name(group: type[Group], field: str) -> str:
    return f"KAMI_{group.env_prefix}{field}".upper()


def read_env_file(path: Path) -> dict[str, str]:
    """Parse a ``.env`` file: ``KEY=value`` lines, ``#`` comments, optional quotes and ``export``."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def _field_type(group: type[Group], field: str) -> Any:
    return typing.get_type_hints(group)[field]


def _bare(annotation: Any) -> Any:
    """``Annotated[X, ...]`` -> ``X``."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _raw_value(source: Mapping[str, str], name: str) -> str | None:
    if name in source:
        return source[name]
    file_name = f"{name}_FILE"
    if file_name in source:
        try:
            return Path(source[file_name]).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise SettingsError([f"{file_name}: cannot read {source[file_name]!r} ({exc.strerror})"]) from exc
    return None


def _items(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def _parse(annotation: Any, text: str) -> Any:
    """A variable's text as the value its field holds; ValueError (in words) when it cannot be."""
    kind = _bare(annotation)
    origin = typing.get_origin(kind)
    if kind is RateLimit:
        return RateLimit.parse(text)
    if origin is list:
        return _items(text)
    if origin is dict:
        parsed: dict[str, Any] = {}
        value_type = typing.get_args(kind)[1]
        for item in _items(text):
            name, sep, value = item.partition("=")
            if not sep or not name.strip():
                raise ValueError(f"{item!r} has no name: write name=value pairs, comma separated")
            parsed[name.strip()] = _parse(value_type, value.strip())
        return parsed
    return text


def _field_problems(group: type[Group], field: str, value: Any) -> list[str]:
    """What msgspec's types cannot say: addresses that must parse."""
    name = env_name(group, field)
    if field == "trusted_proxies":
        problems = []
        for proxy in value:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                problems.append(f"{name}: {proxy!r} is not an IP address or network")
        return problems
    if group.env_prefix == "REDIS_" and field == "url" and value:
        try:
            RedisAddress.parse(value)
        except RedisAddressError as exc:
            return [f"{name}: {exc}"]
    return []


def load_settings(environ: Mapping[str, str] | None = None, env_file: Path | None = None) -> Settings:
    """Build and validate :class:`Settings`; raise :class:`SettingsError` naming every bad variable."""
    environ = os.environ if environ is None else environ
    env_file = env_file or Path(environ.get("KAMI_ENV_FILE", ".env"))
    source = {**read_env_file(env_file), **environ}
    problems: list[str] = []
    built: dict[str, Group] = {}
    for key, group in groups().items():
        raw: dict[str, Any] = {}
        for field in msgspec.structs.fields(group):
            name = env_name(group, field.name)
            try:
                text = _raw_value(source, name)
            except SettingsError as exc:
                problems.extend(exc.problems)
                continue
            if text is None:
                continue
            annotation = _field_type(group, field.name)
            if text == "" and _bare(annotation) is not str:
                continue  # an empty variable means "the default", except for text
            try:
                raw[field.name] = _parse(annotation, text)
            except ValueError as exc:
                problems.append(f"{name}: {exc}")
                continue
            problems.extend(_field_problems(group, field.name, raw[field.name]))
        try:
            built[key] = msgspec.convert(raw, group, strict=False)
        except msgspec.ValidationError:
            for name, value in raw.items():  # msgspec stops at the first: name every bad variable
                try:
                    msgspec.convert({name: value}, group, strict=False)
                except msgspec.ValidationError as exc:
                    problems.append(_describe(group, str(exc), raw))
    if problems:
        raise SettingsError(problems)
    settings = Settings(**built)  # type: ignore[arg-type]
    problems = cross_field_problems(settings)
    if problems:
        raise SettingsError(problems)
    return settings


def _allowed(group: type[Group], field: str) -> list[str]:
    """The values a field with a fixed set of them accepts (``Literal``), else nothing."""
    kind = _bare(_field_type(group, field))
    return [value for value in typing.get_args(kind) if isinstance(value, str)]


def _describe(group: type[Group], message: str, raw: Mapping[str, Any]) -> str:
    """Turn msgspec's ``Expected int, got str - at `$.port``` into ``KAMI_SERVER_PORT: ...``."""
    text, _, where = message.partition(" - at `$.")
    field = where.rstrip("`").split(".")[0].split("[")[0]
    if not field:
        return f"KAMI_{group.env_prefix}*: {text}"
    shown = "***" if field in group.secret_fields else raw.get(field)
    allowed = _allowed(group, field)
    if allowed:
        return f"{env_name(group, field)}: {shown!r} is not one of: {', '.join(allowed)}"
    return f"{env_name(group, field)}: {text.replace('`', '')} (got {shown!r})"


def _plain(value: Any) -> Any:
    """A setting's value as its variable would spell it (rate limits as ``100/minute``)."""
    if isinstance(value, RateLimit):
        return value.text
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return msgspec.to_builtins(value)


def masked(settings: Settings) -> dict[str, dict[str, Any]]:
    """The effective settings as plain data with every secret hidden (URLs keep all but the password)."""
    out: dict[str, dict[str, Any]] = {}
    for key, group in groups().items():
        current = getattr(settings, key)
        values = {f.name: _plain(getattr(current, f.name)) for f in msgspec.structs.fields(group)}
        for field in group.secret_fields:
            value = values.get(field)
            if isinstance(value, list):
                values[field] = [_mask_url(v) for v in value]
            elif value and field.endswith("url"):
                values[field] = _mask_url(value)
            elif value:
                values[field] = "***"
        out[key] = values
    database = out["database"]
    database["effective_url"] = _mask_url(settings.database_url)
    if not settings.database.host:
        database.pop("driver")  # used only with KAMI_DATABASE_HOST: beside a URL it says nothing true
    return out


def _mask_url(url: str) -> str:
    """Hide the password of a URL, keep the rest readable."""
    # Late: SQLAlchemy is not needed to read the settings (``kami config`` stays light).
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "***"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, loaded once from the real environment."""
    return load_settings()


def _shown(default: Any) -> str:
    if isinstance(default, bool):
        return str(default).lower()
    if isinstance(default, list):
        return ",".join(str(item) for item in default)
    if isinstance(default, dict):
        return ",".join(f"{key}={_plain(value)}" for key, value in default.items())
    if isinstance(default, RateLimit):
        return default.text
    return "" if default is None else str(default)


def describe_variables() -> list[tuple[str, str, str, str]]:
    """``(variable, type, default, description)`` for every setting, in declaration order."""
    rows: list[tuple[str, str, str, str]] = []
    for group in groups().values():
        info = msgspec.inspect.type_info(group)
        assert isinstance(info, msgspec.inspect.StructType)
        defaults = group()
        for field in info.fields:
            described = field.type
            description = ""
            while isinstance(described, msgspec.inspect.Metadata):
                description = description or (described.extra_json_schema or {}).get("description", "")
                described = described.type
            kind = "rate" if isinstance(described, msgspec.inspect.DataclassType) else None
            if isinstance(described, msgspec.inspect.DictType):
                kind = "rates" if isinstance(described.value_type, msgspec.inspect.DataclassType) else "dict"
            kind = kind or type(described).__name__.removesuffix("Type").lower()
            rows.append(
                (env_name(group, field.name), kind, _shown(getattr(defaults, field.name)), description)
            )
    return rows


def env_example() -> str:
    """The text of ``.env.example``: every variable, commented, with its default."""
    lines = [
        "# kami configuration. Generated by `kami config --example`; do not edit by hand.",
        "# Every variable may also be given as <NAME>_FILE (a file holding the value).",
    ]
    for name, kind, default, description in describe_variables():
        lines += ["", f"# {description} ({kind})", f"# {name}={default}"]
    return "\n".join(lines) + "\n"
