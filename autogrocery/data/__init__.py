"""Packaged data files: the default catalog (catalog.toml)."""
