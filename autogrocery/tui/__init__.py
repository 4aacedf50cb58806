"""The operators' dashboard (Textual). The only package that imports textual.

`client`, `client_errors`, `feed`, `model` and `forms` import no textual, so the API
client can be used without loading the UI; `DashboardApp` is imported on first use.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ApiClient", "ApiError", "Credentials", "DashboardApp", "Disconnected"]


def __getattr__(name: str) -> Any:
    if name == "DashboardApp":
        from autogrocery.tui.app import DashboardApp

        return DashboardApp
    if name in ("ApiClient", "Credentials"):
        from autogrocery.tui import client

        return getattr(client, name)
    if name in ("ApiError", "Disconnected"):
        from autogrocery.tui import client_errors

        return getattr(client_errors, name)
    raise AttributeError(name)
