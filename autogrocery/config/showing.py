"""What `config show` prints: the config as plain data, secrets left out."""

import dataclasses
import re

from autogrocery.config.sections import SECTIONS, Config


def config_to_dict(config: Config) -> dict[str, dict[str, object]]:
    """The config as plain ``{section: {key: value}}`` (TOML/JSON-serialisable)."""
    return dataclasses.asdict(config)


def shown(config: Config) -> tuple[dict[str, dict[str, object]], dict[str, str]]:
    """What `config show` prints: the values as they take effect (paths resolved, e.g.
    the data dir actually used instead of ""), and, in place of each secret, a note
    (``{"auth.jwt_secret": "set, hidden"}``) that never holds its value."""
    values = config_to_dict(config)
    values["store"]["data_dir"] = str(config.data_path)
    values["catalog"]["path"] = str(config.catalog_file)
    values["analytics"]["csv_path"] = str(config.csv_file)
    values["zmq"]["keys_dir"] = str(config.keys_path)
    values["central"]["data_dir"] = str(config.central.data_path())
    values["central"]["db"] = without_password(config.central.db)
    notes: dict[str, str] = {}
    for section, cls in SECTIONS.items():
        for field in dataclasses.fields(cls):
            if field.metadata.get("secret"):
                value = values[section].pop(field.name)
                notes[f"{section}.{field.name}"] = (
                    "set, hidden" if value else "not set: generated into the data directory"
                )
    return values, notes


def without_password(url: str) -> str:
    """A database URL (or libpq's key=value form) as it may be shown: a password in it
    masked, wherever libpq would read one (`user:pw@`, up to the last `@`, whatever the
    password holds; `password=` as a query parameter or a keyword)."""
    shown = _PASSWORD_PARAM.sub(r"\1***", url)
    scheme, sep, rest = shown.partition("://")
    if not sep or "@" not in rest:
        return shown
    userinfo, host = rest.rsplit("@", 1)
    if ":" in userinfo:
        userinfo = userinfo.split(":", 1)[0] + ":***"
    return f"{scheme}://{userinfo}@{host}"


_PASSWORD_PARAM = re.compile(r"((?:^|[?&\s])password\s*=\s*)(?:'[^']*'|[^&\s]*)", re.IGNORECASE)
