"""The typed settings: one frozen dataclass per TOML table, and `Config` holding them all.

A field's metadata carries its range and choice rules (`_f`), which `checks` applies;
the properties resolve paths (the data directory, the catalog, the CSV) as they take
effect.
"""

import dataclasses
import os
import typing
from datetime import tzinfo
from importlib import resources
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def _f(default: T, **rules: object) -> T:
    """A field with range/choice rules: gt/ge/lt/le=bound (a str bound names a sibling
    field), choices=(...), upper=True (case-insensitive, stored upper-case);
    secret=True keeps its value out of `config show`."""
    return dataclasses.field(default=default, metadata=rules)


@dataclasses.dataclass(frozen=True, slots=True)
class StoreConfig:
    data_dir: str = ""
    synchronous: str = _f("NORMAL", choices=("OFF", "NORMAL", "FULL"), upper=True)
    commit_window: float = _f(0.0, ge=0, le=0.1)
    page_size: int = _f(4096, choices=(1024, 2048, 4096, 8192))
    retention_days: int = _f(730, ge=0, le=36500)  # 0: keep every order and movement
    history_interval: float = _f(10.0, gt=0)
    history_batch: int = _f(500, ge=10, le=100_000)


@dataclasses.dataclass(frozen=True, slots=True)
class StockConfig:
    time_zone: str = "UTC"  # IANA name; see zone()
    expiry_sweep_interval: float = _f(3600.0, gt=0)
    expiry_alert_days: int = _f(2, ge=0)
    large_movement_units: int = _f(100, ge=1)  # an adjustment this large is told
    usage_days: int = _f(7, ge=1)
    lead_time_days: int = _f(2, ge=0)
    markdown_elasticity: float = _f(2.0, gt=0)
    markdown_floor: float = _f(0.5, ge=0, le=1)

    def zone(self) -> tzinfo:
        """The store's time zone (a tzinfo); check_config checks the name."""
        from zoneinfo import ZoneInfo

        return ZoneInfo(self.time_zone)


@dataclasses.dataclass(frozen=True, slots=True)
class CatalogConfig:
    path: str = ""


@dataclasses.dataclass(frozen=True, slots=True)
class OrdersConfig:
    reservation_ttl: float = _f(600.0, gt=0)
    refused_hold: float = _f(60.0, gt=0)
    expiry_sweep_interval: float = _f(1.0, gt=0)
    max_quantity: int = _f(1000, ge=1)
    max_lines: int = _f(100, ge=1)


@dataclasses.dataclass(frozen=True, slots=True)
class RobotsConfig:
    per_aisle: int = _f(1, ge=0)  # 0 only with transport.robots = "zmq" (see check_config)
    pick_time: float = _f(0.05, ge=0)
    failure_probability: float = _f(0.0, ge=0, lt=1)
    max_attempts: int = _f(3, ge=1)
    retry_backoff: float = _f(0.05, ge=0)
    retry_backoff_max: float = _f(2.0, ge=0)
    restart_delay: float = _f(0.5, ge=0)
    shelve_chunk: int = _f(10, ge=1)


@dataclasses.dataclass(frozen=True, slots=True)
class PricingConfig:
    margin: float = _f(0.30, ge=0)
    scarcity_weight: float = _f(0.25, ge=0)
    min_factor: float = _f(0.9, gt=0)
    max_factor: float = _f(1.5, ge="min_factor")


@dataclasses.dataclass(frozen=True, slots=True)
class AnalyticsConfig:
    csv_path: str = "latency.csv"


@dataclasses.dataclass(frozen=True, slots=True)
class TransportConfig:
    robots: str = _f("memory", choices=("memory", "zmq"))
    metrics: str = _f("memory", choices=("memory", "zmq"))


@dataclasses.dataclass(frozen=True, slots=True)
class ZmqConfig:
    robots_endpoint: str = "tcp://127.0.0.1:5556"
    metrics_endpoint: str = "tcp://127.0.0.1:5557"
    heartbeat_interval: float = _f(1.0, gt=0, le=60)
    heartbeat_misses: int = _f(3, ge=1, le=100)
    ack_timeout: float = _f(2.0, gt=0)
    aisle_deadline: float = _f(60.0, gt=0)
    curve: bool = False
    keys_dir: str = "keys"
    insecure: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class ApiConfig:
    host: str = "127.0.0.1"
    port: int = _f(5050, ge=0, le=65535)
    cors_origins: str = ""  # see origins()
    event_buffer: int = _f(10_000, ge=1)
    event_buffer_bytes: int = _f(262_144, ge=4096)
    event_send_buffer: int = _f(131_072, ge=0)
    header_timeout: float = _f(20.0, gt=0)
    body_timeout: float = _f(20.0, gt=0)
    max_connections: int = _f(1000, ge=1)
    max_connections_per_client: int = _f(100, ge=0)
    search_index_at_start: bool = True

    def origins(self) -> tuple[str, ...]:
        """`cors_origins` split on commas and spaces."""
        return tuple(o for o in self.cors_origins.replace(",", " ").split() if o)


@dataclasses.dataclass(frozen=True, slots=True)
class AuthConfig:
    bcrypt_cost: int = _f(12, ge=4, le=31)
    access_ttl: float = _f(900.0, gt=0)
    refresh_ttl: float = _f(1_209_600.0, gt=0)
    jwt_secret: str = _f("", secret=True)
    login_max_failures: int = _f(5, ge=1)
    login_ip_max_failures: int = _f(20, ge=1)
    login_window: float = _f(300.0, gt=0)
    idempotency_ttl: float = _f(86_400.0, gt=0)


@dataclasses.dataclass(frozen=True, slots=True)
class CompatConfig:
    original: bool = False
    truck_without_auth: bool = False
    truck_account: str = "truck-1"
    insecure: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class LogConfig:
    level: str = _f("INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"), upper=True)
    format: str = _f("json", choices=("json", "text"))
    max_bytes: int = _f(10_485_760, ge=0)
    backups: int = _f(5, ge=0)


@dataclasses.dataclass(frozen=True, slots=True)
class ActorsConfig:
    ask_timeout: float = _f(10.0, gt=0)


@dataclasses.dataclass(frozen=True, slots=True)
class ChainConfig:
    join: str = ""  # a join file from `autogrocery central enroll`; "": not in a chain
    heartbeat: float = _f(5.0, gt=0, le=3600)
    retention_days: int = _f(30, ge=1, le=3650)
    nats_server: str = ""  # the nats-server binary; "": the chain extra's, else PATH


@dataclasses.dataclass(frozen=True, slots=True)
class NotifyConfig:
    """Alerts sent out: webhooks and email (docs/operating.md, "Webhooks", "Email")."""

    allow_private_urls: bool = False  # webhooks to private networks (loopback always)
    webhook_timeout: float = _f(10.0, gt=0, le=300)  # s for a receiver to answer
    webhook_retry_for: float = _f(86_400.0, gt=0)  # s of retries before a delivery fails
    webhook_max_backoff: float = _f(3600.0, gt=0)  # s: the longest wait between retries
    smtp_host: str = ""  # "": no email
    smtp_port: int = _f(587, ge=1, le=65535)
    smtp_tls: str = _f("starttls", choices=("none", "starttls", "tls"))
    smtp_user: str = ""  # "": no login (its password: AUTOGROCERY_SMTP_PASSWORD)
    smtp_from: str = ""  # the From address; required with smtp_host
    smtp_timeout: float = _f(30.0, gt=0, le=600)
    daily_at: str = "07:00"  # HH:MM, store time: the daily digest and report
    head_office_after: float = _f(300.0, gt=0)  # s of a lost hub link before it is told


REPLICA_SCHEMES = ("file", "s3", "gs", "abs", "sftp", "webdav", "nats", "oss")


@dataclasses.dataclass(frozen=True, slots=True)
class ReplicateConfig:
    """Litestream, supervised by `run`, replicating the store's database (docs/operating.md)."""

    url: str = ""  # "": no replication; else see replica_url()
    sync_interval: float = _f(1.0, gt=0, le=3600)
    lag_warning: float = _f(60.0, gt=0)
    litestream: str = ""  # the litestream binary; "": the replicate extra's, else PATH

    def replica_url(self) -> str | None:
        """The replica as Litestream names it: a URL (file://, s3://...), an absolute
        directory made a file:// URL; None when the store replicates nowhere."""
        if not self.url:
            return None
        if "://" in self.url:
            return self.url
        return Path(self.url).expanduser().resolve().as_uri()


@dataclasses.dataclass(frozen=True, slots=True)
class CentralConfig:
    """The head office (`autogrocery central`): its own data dir, API and hub."""

    data_dir: str = ""
    db: str = ""  # "" is <data_dir>/central.db (SQLite); or a postgresql:// URL
    host: str = "127.0.0.1"
    port: int = _f(5060, ge=0, le=65535)
    leaf_host: str = "127.0.0.1"
    leaf_port: int = _f(7422, ge=0, le=65535)
    leaf_advertise: str = ""  # HOST:PORT that stores dial; "" is leaf_host:leaf_port
    leaf_tls: bool = True
    leaf_cert: str = ""  # the operator's own certificate, key and CA: all three or none
    leaf_key: str = ""
    leaf_ca: str = ""
    time_zone: str = "UTC"
    store_timeout: float = _f(15.0, gt=0)
    reconcile_interval: float = _f(2.0, gt=0)
    ack_wait: float = _f(30.0, gt=0)
    batch: int = _f(256, ge=1, le=10_000)
    shards: int = _f(1, ge=1, le=64)
    hub_nodes: int = _f(1, ge=1, le=5)

    def data_path(self) -> Path:
        """``data_dir``, else ``autogrocery-central`` in the XDG data home."""
        if self.data_dir:
            return Path(self.data_dir).expanduser()
        xdg = os.environ.get("XDG_DATA_HOME", "")
        base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".local/share"
        return base / "autogrocery-central"

    def zone(self) -> tzinfo:
        """The chain's time zone (a tzinfo): what a day of sales is."""
        from zoneinfo import ZoneInfo

        return ZoneInfo(self.time_zone)


@dataclasses.dataclass(frozen=True, slots=True)
class Config:
    store: StoreConfig = StoreConfig()
    stock: StockConfig = StockConfig()
    catalog: CatalogConfig = CatalogConfig()
    orders: OrdersConfig = OrdersConfig()
    robots: RobotsConfig = RobotsConfig()
    pricing: PricingConfig = PricingConfig()
    analytics: AnalyticsConfig = AnalyticsConfig()
    transport: TransportConfig = TransportConfig()
    zmq: ZmqConfig = ZmqConfig()
    api: ApiConfig = ApiConfig()
    auth: AuthConfig = AuthConfig()
    compat: CompatConfig = CompatConfig()
    log: LogConfig = LogConfig()
    actors: ActorsConfig = ActorsConfig()
    chain: ChainConfig = ChainConfig()
    replicate: ReplicateConfig = ReplicateConfig()
    notify: NotifyConfig = NotifyConfig()
    central: CentralConfig = CentralConfig()

    @property
    def data_path(self) -> Path:
        """The data directory: ``store.data_dir``, else the XDG data home."""
        if self.store.data_dir:
            return Path(self.store.data_dir).expanduser()
        xdg = os.environ.get("XDG_DATA_HOME", "")
        base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".local/share"
        return base / "autogrocery"

    @property
    def csv_file(self) -> Path:
        """``analytics.csv_path``, relative to :attr:`data_path` unless absolute."""
        path = Path(self.analytics.csv_path).expanduser()
        return path if path.is_absolute() else self.data_path / path

    @property
    def keys_path(self) -> Path:
        """``zmq.keys_dir``, relative to :attr:`data_path` unless absolute."""
        path = Path(self.zmq.keys_dir).expanduser()
        return path if path.is_absolute() else self.data_path / path

    @property
    def join_file(self) -> Path | None:
        """``chain.join``: this store's join file, None when it is in no chain."""
        return Path(self.chain.join).expanduser() if self.chain.join else None

    @property
    def catalog_file(self) -> Path:
        """``catalog.path``, else the catalog packaged in ``autogrocery/data``."""
        if self.catalog.path:
            return Path(self.catalog.path).expanduser()
        return Path(str(resources.files("autogrocery.data").joinpath("catalog.toml")))


SECTIONS: dict[str, type] = typing.get_type_hints(Config)
