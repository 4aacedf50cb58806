"""Checking a config: names of sections and keys ("did you mean"), each value's type and
rules, and the rules that tie sections together. Every problem is a `ConfigError` whose
one line names the key.
"""

import dataclasses
import difflib
import operator
import re
import typing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from autogrocery.config.sections import (
    REPLICA_SCHEMES,
    SECTIONS,
    CentralConfig,
    Config,
    NotifyConfig,
    ReplicateConfig,
)


class ConfigError(ValueError):
    """A configuration problem; ``str()`` is a single line naming the key."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__("config: " + " ".join(message.splitlines()))
        self.key = key


_ORIGIN = re.compile(r"https?://[A-Za-z0-9.\-\[\]:]+")
_HOUR_MINUTE = re.compile(r"([01]\d|2[0-3]):[0-5]\d")


_SYMBOLS = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}  # rule name -> operator


def _hint(word: str, choices: Iterable[str], fmt: str) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {fmt.format(close[0])}?)" if close else ""


def section_class(section: str) -> type:
    """The dataclass of ``[section]``; ConfigError if unknown."""
    cls = SECTIONS.get(section)
    if cls is None:
        raise ConfigError(
            f"unknown section [{section}]" + _hint(section, SECTIONS, "[{}]"), section
        )
    return cls


def field_type(section: str, key: str) -> type:
    """The type of ``section.key``; ConfigError if either is unknown."""
    hints = typing.get_type_hints(section_class(section))
    if key not in hints:
        hint = _hint(key, hints, section + ".{}")
        raise ConfigError(f"unknown key {section}.{key}{hint}", f"{section}.{key}")
    return typing.cast(type, hints[key])


def short(value: object) -> str:
    """``repr(value)``, cut to 60 characters for a one-line message."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _check_type(name: str, typ: type, value: object) -> object:
    if typ is float and isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, typ) and (typ is bool or not isinstance(value, bool)):
        return value
    raise ConfigError(
        f"{name}: expected {typ.__name__}, got {type(value).__name__} {short(value)}", name
    )


def _check_rules(section: str, cls: type, values: dict[str, object]) -> None:
    for field in dataclasses.fields(cls):
        name, value = f"{section}.{field.name}", values[field.name]
        choices = field.metadata.get("choices")
        if choices is not None and value not in choices:
            allowed = ", ".join(choices)
            raise ConfigError(f"{name}: must be one of {allowed}, got {short(value)}", name)
        for op in _SYMBOLS.keys() & field.metadata.keys():
            limit = label = field.metadata[op]
            if isinstance(limit, str):  # another field of the same section
                limit = values[label]
                label = f"{section}.{label} ({limit!r})"
            if not getattr(operator, op)(value, limit):
                raise ConfigError(f"{name}: must be {_SYMBOLS[op]} {label}, got {value!r}", name)


def build_section(section: str, given: Mapping[str, object]) -> Any:
    """The dataclass of ``[section]`` from ``given`` over its defaults, each value checked.
    Which dataclass is known at run time only, from `section` (Config takes each by name),
    so the result is what calling the class picked from SECTIONS gives: untyped."""
    cls = SECTIONS[section]
    hints = typing.get_type_hints(cls)
    values: dict[str, object] = {}
    for field in dataclasses.fields(cls):
        name = f"{section}.{field.name}"
        value = _check_type(name, hints[field.name], given.get(field.name, field.default))
        if field.metadata.get("upper") and isinstance(value, str):  # str fields only
            value = value.upper()
        values[field.name] = value
    _check_rules(section, cls, values)
    for key, typ in hints.items():
        value = values[key]
        if typ is float and isinstance(value, int | float):  # checked: an int or a float
            values[key] = float(value)
    return cls(**values)


def check_config(config: Config) -> None:
    """The rules that look at more than one value (or at what a value names)."""
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
    kept = config.store.retention_days * 86_400.0
    if 0 < kept < config.auth.idempotency_ttl:  # a pruned order is its key's only record
        raise ConfigError(
            f"store.retention_days: {config.store.retention_days} keeps orders for less "
            f"than auth.idempotency_ttl ({config.auth.idempotency_ttl:g} s)",
            "store.retention_days",
        )
    _check_central(config.central)
    _check_replicate(config.replicate)
    _check_notify(config.notify)
    for origin in config.api.origins():
        if not _ORIGIN.fullmatch(origin):
            raise ConfigError(
                f"api.cors_origins: {origin!r} is not an origin like https://host[:port]",
                "api.cors_origins",
            )


def _check_central(central: CentralConfig) -> None:
    try:
        central.zone()
    except (ValueError, LookupError, OSError):
        raise ConfigError(
            f"central.time_zone: {central.time_zone!r} is not a time zone like "
            "Europe/Berlin or UTC",
            "central.time_zone",
        ) from None
    if central.db and not central.db.startswith(("postgresql://", "postgres://")):
        raise ConfigError(
            'central.db: not a postgresql:// URL ("" keeps the read model in the data '
            "directory's SQLite file)",
            "central.db",
        )
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


def _check_notify(notify: NotifyConfig) -> None:
    if notify.smtp_host and "@" not in notify.smtp_from:
        raise ConfigError(
            f"notify.smtp_from: an address like store@example.com is needed with "
            f"notify.smtp_host, got {notify.smtp_from!r}",
            "notify.smtp_from",
        )
    local = notify.smtp_host in ("localhost", "127.0.0.1", "::1")
    if notify.smtp_user and notify.smtp_tls == "none" and not local:
        raise ConfigError(
            f"notify.smtp_tls: none would send notify.smtp_user's password to "
            f"{notify.smtp_host} in clear; use starttls or tls",
            "notify.smtp_tls",
        )
    if not _HOUR_MINUTE.fullmatch(notify.daily_at):
        raise ConfigError(
            f"notify.daily_at: {notify.daily_at!r} is not a time like 07:00", "notify.daily_at"
        )
