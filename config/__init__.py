"""Configuration: one TOML file, validated into typed objects before anything starts."""

from .loader import DEMO_CONFIG, ConfigError, load_config, parse_config, validate_config
from .schema import VaxelConfig

__all__ = [
    "DEMO_CONFIG",
    "ConfigError",
    "VaxelConfig",
    "load_config",
    "parse_config",
    "validate_config",
]
