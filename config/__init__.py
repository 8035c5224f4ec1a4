"""Configuration: one TOML file, validated into typed objects before anything starts."""

from .loader import DEMO_CONFIG, ConfigError, load_config, parse_config, validate_config
from .schema import (
    MAIL_RETRY_DELAYS,
    ApiConfig,
    CallbackConfig,
    NumberTarget,
    OutboundConfig,
    SmsConfig,
    SmtpConfig,
    TrunkConfig,
    UserConfig,
    VaxelConfig,
)

__all__ = [
    "MAIL_RETRY_DELAYS",
    "ApiConfig",
    "CallbackConfig",
    "UserConfig",
    "NumberTarget",
    "OutboundConfig",
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
