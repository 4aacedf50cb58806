"""App-wide messages. Messages that belong to one widget are nested in its class."""

from __future__ import annotations

from textual.message import Message

from autogrocery.tui.feed import Link


class LinkChanged(Message):
    """The connection to the store went up or down (drives the banner)."""

    def __init__(self, link: Link) -> None:
        super().__init__()
        self.link = link


class StoreChanged(Message):
    """An action (restock, adjustment, product change) succeeded; refresh soon."""

    def __init__(self, what: str) -> None:
        super().__init__()
        self.what = what
