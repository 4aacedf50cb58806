"""The operators' dashboard (Textual). The only package that imports textual.

`client`, `feed`, `model` and `forms` import no textual, so the dashboard's API client
(on the shared one, `autogrocery/client/`) can be used without loading the UI;
`DashboardApp` is imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # what the names are, for a type checker; imported on first use
    from autogrocery.tui.app import DashboardApp
    from autogrocery.tui.client import ApiClient

__all__ = ["ApiClient", "DashboardApp"]


def __getattr__(name: str) -> object:
    if name == "DashboardApp":
        from autogrocery.tui.app import DashboardApp

        return DashboardApp
    if name == "ApiClient":
        from autogrocery.tui.client import ApiClient

        return ApiClient
    raise AttributeError(name)
