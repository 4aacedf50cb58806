"""Layered config: packaged defaults.toml -> file -> AUTOGROCERY_SECTION__KEY env -> ``-o``.

Each TOML table loads into a frozen dataclass of the same name; every problem raises
:class:`ConfigError` with a one-line message naming the offending key. The settings
are in `sections`, reading the layers in `loading`, checking them in `checks`, and
what `config show` prints in `showing`; this is their public face.
"""

from autogrocery.config.checks import ConfigError
from autogrocery.config.loading import ENV_CONFIG, ENV_PREFIX, load_config
from autogrocery.config.sections import (
    REPLICA_SCHEMES,
    SECTIONS,
    ActorsConfig,
    AnalyticsConfig,
    ApiConfig,
    AuthConfig,
    CatalogConfig,
    CentralConfig,
    ChainConfig,
    CompatConfig,
    Config,
    LogConfig,
    NotifyConfig,
    OrdersConfig,
    PricingConfig,
    ReplicateConfig,
    RobotsConfig,
    StockConfig,
    StoreConfig,
    TransportConfig,
    ZmqConfig,
)
from autogrocery.config.showing import config_to_dict, shown

__all__ = [
    "ENV_CONFIG",
    "ENV_PREFIX",
    "REPLICA_SCHEMES",
    "SECTIONS",
    "ActorsConfig",
    "AnalyticsConfig",
    "ApiConfig",
    "AuthConfig",
    "CatalogConfig",
    "CentralConfig",
    "ChainConfig",
    "CompatConfig",
    "Config",
    "ConfigError",
    "LogConfig",
    "NotifyConfig",
    "OrdersConfig",
    "PricingConfig",
    "ReplicateConfig",
    "RobotsConfig",
    "StockConfig",
    "StoreConfig",
    "TransportConfig",
    "ZmqConfig",
    "config_to_dict",
    "load_config",
    "shown",
]
