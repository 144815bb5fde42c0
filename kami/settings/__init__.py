"""One typed settings object, read from ``KAMI_*`` environment variables and an optional ``.env`` file.

Precedence: environment > ``.env`` > defaults. Every variable may instead be given as ``<NAME>_FILE``
(a path whose content is the value) so that Docker and Kubernetes secrets work unchanged. Each group's
fields map to ``KAMI_<PREFIX><FIELD>`` (:func:`env_name`); the groups are :mod:`kami.settings.groups`,
the reading :mod:`kami.settings.loading`.
"""

from kami.settings.groups import (
    DEFAULT_SECRET_KEY,
    AppSettings,
    DatabaseSettings,
    JobsSettings,
    MailSettings,
    RateLimitSettings,
    RedisSettings,
    SecuritySettings,
    ServerSettings,
    TelemetrySettings,
)
from kami.settings.loading import (
    describe_variables,
    env_example,
    env_name,
    get_settings,
    load_settings,
    masked,
    read_env_file,
)
from kami.settings.redis_address import RedisAddress, RedisAddressError
from kami.settings.root import Settings, SettingsError, production_requirements

__all__ = [
    "DEFAULT_SECRET_KEY",
    "AppSettings",
    "DatabaseSettings",
    "JobsSettings",
    "MailSettings",
    "RateLimitSettings",
    "RedisAddress",
    "RedisAddressError",
    "RedisSettings",
    "SecuritySettings",
    "ServerSettings",
    "Settings",
    "SettingsError",
    "TelemetrySettings",
    "describe_variables",
    "env_example",
    "env_name",
    "get_settings",
    "load_settings",
    "masked",
    "production_requirements",
    "read_env_file",
]
