"""Layered config: packaged defaults.toml -> file -> AUTOGROCERY_SECTION__KEY env -> ``-o``.

Each TOML table loads into a frozen dataclass of the same name; every problem raises
:class:`ConfigError` with a one-line message naming the offending key.
"""

import dataclasses
import difflib
import operator
import os
import re
import tomllib
import typing
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

ENV_PREFIX = "AUTOGROCERY_"
ENV_CONFIG = "AUTOGROCERY_CONFIG"


class ConfigError(ValueError):
    """A configuration problem; ``str()`` is a single line naming the key."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__("config: " + " ".join(message.splitlines()))
        self.key = key


_ORIGIN = re.compile(r"https?://[A-Za-z0-9.\-\[\]:]+")


def _f(default: Any, **rules: Any) -> Any:
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


@dataclasses.dataclass(frozen=True, slots=True)
class StockConfig:
    time_zone: str = "UTC"  # IANA name; see zone()
    expiry_sweep_interval: float = _f(3600.0, gt=0)
    expiry_alert_days: int = _f(2, ge=0)
    usage_days: int = _f(7, ge=1)
    lead_time_days: int = _f(2, ge=0)

    def zone(self) -> Any:
        """The store's time zone (a tzinfo); load_config checks the name."""
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
    per_aisle: int = _f(1, ge=0)  # 0 only with transport.robots = "zmq" (see load_config)
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

    def data_path(self) -> Path:
        """``data_dir``, else ``autogrocery-central`` in the XDG data home."""
        if self.data_dir:
            return Path(self.data_dir).expanduser()
        xdg = os.environ.get("XDG_DATA_HOME", "")
        base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".local/share"
        return base / "autogrocery-central"

    def zone(self) -> Any:
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

_SYMBOLS = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}  # rule name -> operator

Layers = dict[str, dict[str, Any]]


def _hint(word: str, choices: Iterable[str], fmt: str) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {fmt.format(close[0])}?)" if close else ""


def _section(section: str) -> type:
    """The dataclass of ``[section]``; ConfigError if unknown."""
    cls = SECTIONS.get(section)
    if cls is None:
        raise ConfigError(
            f"unknown section [{section}]" + _hint(section, SECTIONS, "[{}]"), section
        )
    return cls


def _field_type(section: str, key: str) -> type:
    """The type of ``section.key``; ConfigError if either is unknown."""
    hints = typing.get_type_hints(_section(section))
    if key not in hints:
        hint = _hint(key, hints, section + ".{}")
        raise ConfigError(f"unknown key {section}.{key}{hint}", f"{section}.{key}")
    return typing.cast(type, hints[key])


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise ConfigError(f"cannot load config file {str(path)!r}: {reason}") from exc


def _merge_document(layers: Layers, doc: Mapping[str, Any]) -> None:
    for section, table in doc.items():
        _section(section)
        if not isinstance(table, dict):
            raise ConfigError(
                f"[{section}]: expected a table, got {type(table).__name__} {_short(table)}",
                section,
            )
        for key, value in table.items():
            _field_type(section, key)
            layers.setdefault(section, {})[key] = value


def _parse_scalar(raw: str) -> Any:
    """A TOML value if ``raw`` is one (``2``, ``0.5``, ``true``, ``"x"``), else ``raw``."""
    try:
        doc = tomllib.loads(f"v = {raw}")
    except tomllib.TOMLDecodeError:
        return raw
    return doc["v"] if list(doc) == ["v"] else raw


def _merge_string(layers: Layers, section: str, key: str, raw: str) -> None:
    value = _parse_scalar(raw)
    if _field_type(section, key) is str and not isinstance(value, str):
        value = raw  # e.g. data_dir=2024 stays the string "2024"
    layers.setdefault(section, {})[key] = value


def _check_type(name: str, typ: type, value: Any) -> Any:
    if typ is float and isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, typ) and (typ is bool or not isinstance(value, bool)):
        return value
    raise ConfigError(
        f"{name}: expected {typ.__name__}, got {type(value).__name__} {_short(value)}", name
    )


def _check_rules(section: str, cls: type, values: dict[str, Any]) -> None:
    for field in dataclasses.fields(cls):
        name, value = f"{section}.{field.name}", values[field.name]
        choices = field.metadata.get("choices")
        if choices is not None and value not in choices:
            allowed = ", ".join(choices)
            raise ConfigError(f"{name}: must be one of {allowed}, got {_short(value)}", name)
        for op in _SYMBOLS.keys() & field.metadata.keys():
            limit = label = field.metadata[op]
            if isinstance(limit, str):  # another field of the same section
                limit = values[label]
                label = f"{section}.{label} ({limit!r})"
            if not getattr(operator, op)(value, limit):
                raise ConfigError(f"{name}: must be {_SYMBOLS[op]} {label}, got {value!r}", name)


def _build_section(section: str, given: Mapping[str, Any]) -> Any:
    cls = SECTIONS[section]
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for field in dataclasses.fields(cls):
        name = f"{section}.{field.name}"
        value = _check_type(name, hints[field.name], given.get(field.name, field.default))
        values[field.name] = value.upper() if field.metadata.get("upper") else value
    _check_rules(section, cls, values)
    for key, typ in hints.items():
        if typ is float:
            values[key] = float(values[key])
    return cls(**values)


def _choose_file(
    path: str | os.PathLike[str] | None, env: Mapping[str, str], use_cwd: bool
) -> Path | None:
    if path is not None and str(path):
        return Path(path).expanduser()
    if env.get(ENV_CONFIG):
        return Path(env[ENV_CONFIG]).expanduser()
    if use_cwd and Path("config.toml").is_file():
        return Path("config.toml")
    return None


def load_config(
    path: str | os.PathLike[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    overrides: Sequence[str] = (),
    use_cwd: bool = False,
) -> Config:
    """Load defaults, then ``path`` (or $AUTOGROCERY_CONFIG, or ./config.toml if
    ``use_cwd``), then ``AUTOGROCERY_SECTION__KEY`` env vars, then ``overrides``
    (``section.key=value`` strings), each layer overriding the one before."""
    environ: Mapping[str, str] = os.environ if env is None else env
    layers: Layers = {}
    defaults = resources.files("autogrocery").joinpath("defaults.toml").read_text("utf-8")
    _merge_document(layers, tomllib.loads(defaults))
    file = _choose_file(path, environ, use_cwd)
    if file is not None:
        _merge_document(layers, _read_toml(file))
    for name, raw in sorted(environ.items()):
        rest = name[len(ENV_PREFIX) :].lower() if name.upper().startswith(ENV_PREFIX) else ""
        if "__" in rest:
            section, _, key = rest.partition("__")
            _merge_string(layers, section, key, raw)
    for item in overrides:
        dotted, eq, raw = item.partition("=")
        section, dot, key = dotted.strip().partition(".")
        if not eq or not dot or not section or not key or "." in key:
            raise ConfigError(f"malformed override {item!r} (expected section.key=value)")
        _merge_string(layers, section, key, raw.strip())
    config = Config(**{name: _build_section(name, layers.get(name, {})) for name in SECTIONS})
    if config.robots.per_aisle == 0 and config.transport.robots != "zmq":
        raise ConfigError(
            "robots.per_aisle: must be >= 1 unless transport.robots is zmq, got 0",
            "robots.per_aisle",
        )
    try:
        config.stock.zone()
    except (ValueError, LookupError, OSError):
        raise ConfigError(
            f"stock.time_zone: {config.stock.time_zone!r} is not a time zone like "
            "Europe/Berlin or UTC",
            "stock.time_zone",
        ) from None
    _check_central(config.central)
    _check_replicate(config.replicate)
    for origin in config.api.origins():
        if not _ORIGIN.fullmatch(origin):
            raise ConfigError(
                f"api.cors_origins: {origin!r} is not an origin like https://host[:port]",
                "api.cors_origins",
            )
    return config


def _check_central(central: CentralConfig) -> None:
    try:
        central.zone()
    except (ValueError, LookupError, OSError):
        raise ConfigError(
            f"central.time_zone: {central.time_zone!r} is not a time zone like "
            "Europe/Berlin or UTC",
            "central.time_zone",
        ) from None
    own = {"leaf_cert": central.leaf_cert, "leaf_key": central.leaf_key}
    own["leaf_ca"] = central.leaf_ca
    if any(own.values()) and not all(own.values()):
        missing = next(key for key, value in own.items() if not value)
        raise ConfigError(
            f"central.{missing}: set leaf_cert, leaf_key and leaf_ca together (the "
            "operator's own TLS files), or none of them (the head office makes its own)",
            f"central.{missing}",
        )


def _check_replicate(replicate: ReplicateConfig) -> None:
    url = replicate.url
    if not url:
        return
    scheme = url.partition("://")[0] if "://" in url else None
    if scheme is None and not Path(url).expanduser().is_absolute():
        raise ConfigError(
            f"replicate.url: {url!r} is a relative path; give an absolute directory, or a "
            "URL like file:///srv/replica or s3://bucket/store-1",
            "replicate.url",
        )
    if scheme is not None and scheme not in REPLICA_SCHEMES:
        raise ConfigError(
            f"replicate.url: {scheme}:// is not a Litestream replica; use one of "
            + ", ".join(f"{name}://" for name in REPLICA_SCHEMES),
            "replicate.url",
        )


def config_to_dict(config: Config) -> dict[str, dict[str, Any]]:
    """The config as plain ``{section: {key: value}}`` (TOML/JSON-serialisable)."""
    return dataclasses.asdict(config)


def shown(config: Config) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """What `config show` prints: the values as they take effect (paths resolved, e.g.
    the data dir actually used instead of ""), and, in place of each secret, a note
    (``{"auth.jwt_secret": "set, hidden"}``) that never holds its value."""
    values = config_to_dict(config)
    values["store"]["data_dir"] = str(config.data_path)
    values["catalog"]["path"] = str(config.catalog_file)
    values["analytics"]["csv_path"] = str(config.csv_file)
    values["zmq"]["keys_dir"] = str(config.keys_path)
    values["central"]["data_dir"] = str(config.central.data_path())
    notes: dict[str, str] = {}
    for section, cls in SECTIONS.items():
        for field in dataclasses.fields(cls):
            if field.metadata.get("secret"):
                value = values[section].pop(field.name)
                notes[f"{section}.{field.name}"] = (
                    "set, hidden" if value else "not set: generated into the data directory"
                )
    return values, notes
