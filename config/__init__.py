"""Configuration: one TOML file, validated into typed objects before anything starts."""

from .loader import DEMO_CONFIG, ConfigError, load_config, parse_config, validate_config
from .schema import (
    MAIL_RETRY_DELAYS,
    SCREEN_POP_PLACEHOLDERS,
    ApiConfig,
    CallbackConfig,
    NumberTarget,
    ScreenPopConfig,
    SmsConfig,
    SmtpConfig,
    TrunkConfig,
    UserConfig,
    VaxelConfig,
)

__all__ = [
    "MAIL_RETRY_DELAYS",
    "SCREEN_POP_PLACEHOLDERS",
    "ScreenPopConfig",
    "ApiConfig",
    "CallbackConfig",
    "UserConfig",
    "NumberTarget",
    "SmsConfig",
    "SmtpConfig",
    "TrunkConfig",
    "DEMO_CONFIG",
    "ConfigError",
    "VaxelConfig",
    "load_config",
    "parse_config",
    "validate_config",
]
