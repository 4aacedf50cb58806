"""The head office's own files: its SQLite schema (the API's tables shaped as the
store's, so the shared auth code works on both), and the leaf link's certificates."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest
from cryptography import x509

from autogrocery.central.schema import MIGRATIONS, SchemaError, open_db
from autogrocery.central.tls import TlsError, ensure_generated, own_files
from autogrocery.store.db import migrate

AUTH_TABLES = ("accounts", "refresh_tokens", "revoked_tokens", "idempotency_keys")


def columns(conn: sqlite3.Connection, table: str) -> list[tuple[str, str, int, int]]:
    return [(r[1], r[2], r[3], r[5]) for r in conn.execute(f"PRAGMA table_info({table})")]


def test_auth_tables_are_shaped_as_the_stores(tmp_path: Path) -> None:
    store = sqlite3.connect(":memory:")
    migrate(store)  # the store's own migrations, as a store runs them
    central = open_db(tmp_path / "central.db")
    try:
        for table in AUTH_TABLES:
            assert sorted(columns(central, table)) == sorted(columns(store, table)), table
        assert central.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert central.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        central.close()


def test_a_database_that_is_not_the_head_offices_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE products (sku TEXT)")
    with pytest.raises(SchemaError, match="not a head office database"):
        open_db(path)
    with sqlite3.connect(tmp_path / "new.db") as conn:
        conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    with pytest.raises(SchemaError, match="newer than this autogrocery"):
        open_db(tmp_path / "new.db")


def sans(path: Path) -> set[str]:
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return {str(v) for v in names.get_values_for_type(x509.IPAddress)} | set(
        names.get_values_for_type(x509.DNSName)
    )


def test_the_ca_is_made_once_and_the_certificate_follows_the_names(tmp_path: Path) -> None:
    first = ensure_generated(tmp_path, ["0.0.0.0", "hq.example"])  # noqa: S104
    assert sans(first.cert_file) == {"hq.example", "localhost", "127.0.0.1", "::1"}
    for key in (first.key_file, tmp_path / "leaf-ca.key"):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
    ca = first.ca_pem()
    cert = first.cert_file.read_bytes()
    assert ensure_generated(tmp_path, ["hq.example"]).cert_file.read_bytes() == cert  # kept
    moved = ensure_generated(tmp_path, ["hq.example", "10.1.2.3"])  # a new advertised address
    assert "10.1.2.3" in sans(moved.cert_file)
    assert moved.ca_pem() == ca  # join files handed out stay valid


def test_the_operators_own_files_are_checked(tmp_path: Path) -> None:
    made = ensure_generated(tmp_path / "keys", ["127.0.0.1"])
    assert own_files(str(made.cert_file), str(made.key_file), str(made.ca_file)) == made
    with pytest.raises(TlsError, match="cannot read the leaf certificate"):
        own_files(str(tmp_path / "nope.pem"), str(made.key_file), str(made.ca_file))
    with pytest.raises(TlsError, match="not an unencrypted PEM private key"):
        own_files(str(made.cert_file), str(made.cert_file), str(made.ca_file))
