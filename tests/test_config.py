"""Layered config loading, its error messages, and the packaged data files."""

import dataclasses
import tomllib
from decimal import Decimal
from importlib import resources
from pathlib import Path

import pytest

from autogrocery.config import Config, ConfigError, config_to_dict, load_config

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent
ROOT_CONFIG = ROOT / "config.toml"
AISLES = {"bread": "BRD", "meat": "MEA", "produce": "PRO", "dairy": "DAI", "party": "PAR"}


def packaged_defaults() -> dict:
    text = resources.files("autogrocery").joinpath("defaults.toml").read_text("utf-8")
    return tomllib.loads(text)


def config_error(*args: object, **kwargs: object) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(*args, **kwargs)  # type: ignore[arg-type]
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("config: ")
    return message


# --- defaults and the annotated copy ---------------------------------------------------


def test_defaults_load_without_a_file() -> None:
    config = load_config(env={})
    assert config == Config()
    assert config.robots.per_aisle == 1
    assert config.orders.reservation_ttl == 600.0
    assert isinstance(config.orders.reservation_ttl, float)
    assert config.log.level == "INFO"
    assert config.api.port == 5050


def test_packaged_defaults_match_dataclass_defaults() -> None:
    assert packaged_defaults() == config_to_dict(Config())


def test_root_config_equals_packaged_defaults() -> None:
    assert load_config(ROOT_CONFIG, env={}) == load_config(env={})
    assert tomllib.loads(ROOT_CONFIG.read_text("utf-8")) == packaged_defaults()


def test_every_default_key_is_in_root_config() -> None:
    annotated = tomllib.loads(ROOT_CONFIG.read_text("utf-8"))
    for section, table in packaged_defaults().items():
        for key in table:
            assert key in annotated.get(section, {}), f"{section}.{key} missing from config.toml"


def test_every_key_in_root_config_has_a_comment() -> None:
    lines = ROOT_CONFIG.read_text("utf-8").splitlines()
    for number, line in enumerate(lines):
        if "=" in line and not line.lstrip().startswith(("#", "[")):
            above = lines[number - 1].lstrip()
            assert above.startswith("#"), f"config.toml line {number + 1} has no comment: {line}"


def test_use_cwd_reads_config_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "config.toml").write_text("[robots]\nper_aisle = 4\n")
    monkeypatch.chdir(tmp_path)
    assert load_config(env={}).robots.per_aisle == 1
    assert load_config(env={}, use_cwd=True).robots.per_aisle == 4


# --- layers ----------------------------------------------------------------------------


def test_good_file_overrides_values() -> None:
    config = load_config(DATA / "good.toml", env={})
    assert config.robots.per_aisle == 3
    assert config.robots.failure_probability == 0.1
    assert config.orders.reservation_ttl == 30.0
    assert isinstance(config.orders.reservation_ttl, float)
    assert config.log.level == "DEBUG"  # stored upper-case
    assert config.log.format == "text"
    assert config.api.port == 8080
    assert config.robots.max_attempts == 3  # untouched keys keep their defaults
    assert config.csv_file == Path("/tmp/autogrocery-test/latency.csv")  # noqa: S108


def test_file_from_env_var() -> None:
    config = load_config(env={"AUTOGROCERY_CONFIG": str(DATA / "good.toml")})
    assert config.robots.per_aisle == 3


def test_env_override() -> None:
    env = {
        "AUTOGROCERY_ROBOTS__PER_AISLE": "2",
        "AUTOGROCERY_PRICING__MARGIN": "0.5",
        "AUTOGROCERY_TRANSPORT__ROBOTS": "zmq",  # bare string
        "AUTOGROCERY_API__HOST": '"0.0.0.0"',  # quoted TOML string
        "AUTOGROCERY_STORE__DATA_DIR": "2024",  # a str key keeps digits as text
        "AUTOGROCERY_ADMIN_PASSWORD": "secret",  # no "__": not a config key
        "HOME": "/root",
    }
    config = load_config(env=env)
    assert config.robots.per_aisle == 2
    assert config.pricing.margin == 0.5
    assert config.transport.robots == "zmq"
    assert config.api.host == "0.0.0.0"  # noqa: S104
    assert config.store.data_dir == "2024"


def test_override_beats_env_beats_file() -> None:
    path = DATA / "good.toml"
    assert load_config(path, env={}).robots.per_aisle == 3
    env = {"AUTOGROCERY_ROBOTS__PER_AISLE": "5", "AUTOGROCERY_API__PORT": "9000"}
    config = load_config(path, env=env)
    assert (config.robots.per_aisle, config.api.port) == (5, 9000)
    config = load_config(path, env=env, overrides=["robots.per_aisle=7"])
    assert (config.robots.per_aisle, config.api.port) == (7, 9000)
    assert config.log.format == "text"  # still from the file


def test_overrides_parse_toml_values() -> None:
    config = load_config(
        env={}, overrides=["log.level=warning", " orders.max_lines = 5 ", "store.data_dir=~/x"]
    )
    assert config.log.level == "WARNING"
    assert config.orders.max_lines == 5
    assert config.data_path == Path.home() / "x"
    assert config.csv_file == Path.home() / "x" / "latency.csv"


def test_paths() -> None:
    config = load_config(env={})
    assert config.data_path.name == "autogrocery"
    assert config.catalog_file.name == "catalog.toml"
    assert config.catalog_file.is_file()
    custom = load_config(env={}, overrides=['catalog.path="/srv/cat.toml"'])
    assert custom.catalog_file == Path("/srv/cat.toml")


def test_config_is_frozen() -> None:
    config = load_config(env={})
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.robots.per_aisle = 2  # type: ignore[misc]


# --- errors ----------------------------------------------------------------------------


def test_unknown_key_suggests_the_right_one() -> None:
    message = config_error(DATA / "unknown_key.toml", env={})
    assert message == "config: unknown key robots.per_isle (did you mean robots.per_aisle?)"


def test_unknown_key_from_env_and_override() -> None:
    message = config_error(env={"AUTOGROCERY_ROBOTS__PICK_TIMES": "1"})
    assert "robots.pick_times" in message
    assert "did you mean robots.pick_time?" in message
    message = config_error(env={}, overrides=["orders.nonsense=1"])
    assert message == "config: unknown key orders.nonsense"


def test_unknown_section() -> None:
    message = config_error(DATA / "unknown_section.toml", env={})
    assert message == "config: unknown section [robot] (did you mean [robots]?)"


def test_section_must_be_a_table() -> None:
    assert "[robots]: expected a table" in config_error(DATA / "not_a_table.toml", env={})


def test_wrong_type() -> None:
    message = config_error(DATA / "wrong_type.toml", env={})
    assert message == "config: robots.per_aisle: expected int, got str 'x'"
    message = config_error(DATA / "bool_for_int.toml", env={})
    assert message == "config: api.port: expected int, got bool True"
    message = config_error(env={}, overrides=["orders.max_lines=2.5"])
    assert message == "config: orders.max_lines: expected int, got float 2.5"


def test_out_of_range() -> None:
    message = config_error(DATA / "out_of_range.toml", env={})
    assert message == "config: orders.reservation_ttl: must be > 0, got -1"
    message = config_error(env={}, overrides=["robots.failure_probability=1"])
    assert message == "config: robots.failure_probability: must be < 1, got 1"
    assert "api.port: must be <= 65535" in config_error(env={}, overrides=["api.port=70000"])


def test_max_factor_below_min_factor() -> None:
    message = config_error(DATA / "max_below_min.toml", env={})
    assert message == "config: pricing.max_factor: must be >= pricing.min_factor (0.9), got 0.5"


def test_history_kept_shorter_than_idempotency_keys_is_refused() -> None:
    """A pruned order is its Idempotency-Key's only record: a retry after it would make
    a second order."""
    message = config_error(
        env={}, overrides=["store.retention_days=1", "auth.idempotency_ttl=172800"]
    )
    assert message == (
        "config: store.retention_days: 1 keeps orders for less than auth.idempotency_ttl (172800 s)"
    )
    load_config(env={}, overrides=["store.retention_days=0", "auth.idempotency_ttl=172800"])


def test_bad_choice() -> None:
    message = config_error(DATA / "bad_choice.toml", env={})
    assert message == "config: transport.robots: must be one of memory, zmq, got 'pigeon'"
    assert "log.level: must be one of" in config_error(env={}, overrides=["log.level=loud"])


def test_missing_file() -> None:
    message = config_error(DATA / "no_such_file.toml", env={})
    assert "no_such_file.toml" in message
    assert "No such file" in message
    message = config_error(env={"AUTOGROCERY_CONFIG": str(DATA / "gone.toml")})
    assert "gone.toml" in message


def test_unparsable_file() -> None:
    assert "unparsable.toml" in config_error(DATA / "unparsable.toml", env={})


@pytest.mark.parametrize("item", ["robots.per_aisle", "per_aisle=2", "=2", "a.b.c=1", ".x=1"])
def test_malformed_override(item: str) -> None:
    message = config_error(env={}, overrides=[item])
    assert message == f"config: malformed override {item!r} (expected section.key=value)"


def test_error_is_a_value_error_with_the_key() -> None:
    with pytest.raises(ValueError, match=r"robots\.per_aisle") as info:
        load_config(env={}, overrides=["robots.per_aisle=0"])
    assert isinstance(info.value, ConfigError)
    assert info.value.key == "robots.per_aisle"
    assert len(str(info.value).splitlines()) == 1


# --- the packaged catalog --------------------------------------------------------------


def test_packaged_catalog() -> None:
    text = resources.files("autogrocery.data").joinpath("catalog.toml").read_text("utf-8")
    products = tomllib.loads(text)["products"]
    assert len(products) >= 40
    skus = [p["sku"] for p in products]
    assert len(skus) == len(set(skus))
    assert {p["aisle"] for p in products} == set(AISLES)
    keys = {"sku", "name", "aisle", "unit", "price", "unit_cost", "stock", "min_level"}
    described = {"name_he", "category", "container_type", "size", "brand", "box_size"}
    described |= {"keywords", "shelf_life_days"}
    for aisle, prefix in AISLES.items():
        in_aisle = [p for p in products if p["aisle"] == aisle]
        assert len(in_aisle) >= 8, aisle
        assert all(p["sku"].startswith(prefix + "-") for p in in_aisle)
    for p in products:
        assert keys <= set(p) <= keys | described, p["sku"]
        assert p["name_he"], p["sku"]  # every product in both languages
        assert p["category"], p["sku"]
        # fresh food is dated (the simulator's trucks deliver lots with expiry dates)
        assert ("shelf_life_days" in p) == (p["aisle"] != "party"), p["sku"]
        price, cost = Decimal(p["price"]), Decimal(p["unit_cost"])
        assert price.as_tuple().exponent == -2, p["sku"]
        assert cost.as_tuple().exponent == -2, p["sku"]
        assert 0 < cost < price, p["sku"]
        assert 150 <= p["stock"] <= 500, p["sku"]
        assert 0.1 * p["stock"] <= p["min_level"] <= 0.3 * p["stock"], p["sku"]


# --- [replicate] ---------------------------------------------------------------------


def test_replicate_takes_an_absolute_directory_as_a_file_url(tmp_path: Path) -> None:
    config = load_config(env={}, overrides=[f"replicate.url={tmp_path}/replica"])
    assert config.replicate.replica_url() == f"file://{tmp_path}/replica"
    s3 = load_config(env={}, overrides=["replicate.url=s3://bucket/store-1?region=eu"])
    assert s3.replicate.replica_url() == "s3://bucket/store-1?region=eu"
    assert load_config(env={}).replicate.replica_url() is None


def test_replicate_refuses_a_relative_path_and_an_unknown_scheme() -> None:
    message = config_error(env={}, overrides=["replicate.url=replica"])
    assert "replicate.url: 'replica' is a relative path" in message
    message = config_error(env={}, overrides=["replicate.url=ftp://host/replica"])
    assert "replicate.url: ftp:// is not a Litestream replica" in message


def test_notify_mail_settings_are_checked_together() -> None:
    relay = "notify.smtp_host=smtp.example.com"
    assert "notify.smtp_from" in config_error(env={}, overrides=[relay])
    sender = "notify.smtp_from=store@example.com"
    clear = config_error(
        env={}, overrides=[relay, sender, "notify.smtp_user=me", "notify.smtp_tls=none"]
    )
    assert "notify.smtp_tls" in clear
    assert "in clear" in clear
    assert "notify.daily_at" in config_error(env={}, overrides=["notify.daily_at=7am"])
    assert "notify.smtp_tls" in config_error(env={}, overrides=["notify.smtp_tls=ssl"])
    local = ["notify.smtp_host=127.0.0.1", sender, "notify.smtp_user=me", "notify.smtp_tls=none"]
    assert load_config(env={}, overrides=local).notify.smtp_tls == "none"
