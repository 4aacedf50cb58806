"""The head office's dashboard (`autogrocery dashboard --url` at a head office): the
chain's stores, a SKU's stock across them, transfers, and sales and waste per store.

It shares the store's dashboard's frame (`tui.base`), tables, formats, forms and
stylesheet. `client`, `feed`, `forms` and `model` import no textual; `ChainApp` is
imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # what the names are, for a type checker; imported on first use
    from autogrocery.tui.chain.app import ChainApp
    from autogrocery.tui.chain.client import ChainClient
    from autogrocery.tui.chain.model import ChainModel

__all__ = ["ChainApp", "ChainClient", "ChainModel"]


def __getattr__(name: str) -> object:
    if name == "ChainApp":
        from autogrocery.tui.chain.app import ChainApp

        return ChainApp
    if name == "ChainClient":
        from autogrocery.tui.chain.client import ChainClient

        return ChainClient
    if name == "ChainModel":
        from autogrocery.tui.chain.model import ChainModel

        return ChainModel
    raise AttributeError(name)
