"""Loading a config: the packaged defaults.toml, then a file (``--config``,
$AUTOGROCERY_CONFIG or ./config.toml), then ``AUTOGROCERY_SECTION__KEY`` environment
variables, then ``-o section.key=value`` overrides, each layer overriding the one before.
"""

import os
import tomllib
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path

from autogrocery.config.checks import (
    ConfigError,
    build_section,
    check_config,
    field_type,
    section_class,
    short,
)
from autogrocery.config.sections import SECTIONS, Config

ENV_PREFIX = "AUTOGROCERY_"
ENV_CONFIG = "AUTOGROCERY_CONFIG"


Layers = dict[str, dict[str, object]]  # values as given, checked by build_section


def _read_toml(path: Path) -> dict[str, object]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise ConfigError(f"cannot load config file {str(path)!r}: {reason}") from exc


def _merge_document(layers: Layers, doc: Mapping[str, object]) -> None:
    for section, table in doc.items():
        section_class(section)
        if not isinstance(table, dict):
            raise ConfigError(
                f"[{section}]: expected a table, got {type(table).__name__} {short(table)}",
                section,
            )
        for key, value in table.items():
            field_type(section, key)
            layers.setdefault(section, {})[key] = value


def _parse_scalar(raw: str) -> object:
    """A TOML value if ``raw`` is one (``2``, ``0.5``, ``true``, ``"x"``), else ``raw``."""
    try:
        doc = tomllib.loads(f"v = {raw}")
    except tomllib.TOMLDecodeError:
        return raw
    return doc["v"] if list(doc) == ["v"] else raw


def _merge_string(layers: Layers, section: str, key: str, raw: str) -> None:
    value = _parse_scalar(raw)
    if field_type(section, key) is str and not isinstance(value, str):
        value = raw  # e.g. data_dir=2024 stays the string "2024"
    layers.setdefault(section, {})[key] = value


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
    config = Config(**{name: build_section(name, layers.get(name, {})) for name in SECTIONS})
    check_config(config)
    return config
