"""Updating a fixed-size Static or Label without a screen layout: a layout re-renders
the whole screen, and the panels update their text lines several times a second."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

_SHOWN = "_autogrocery_shown"


def show(widget: Static, content: str | Text) -> None:
    """Show `content` if it differs from what is shown. The widget's size must not
    depend on its content (give it a fixed height and width in the stylesheet)."""
    key = content.markup if isinstance(content, Text) else content
    if getattr(widget, _SHOWN, None) == key:
        return
    setattr(widget, _SHOWN, key)
    widget.update(content, layout=False)
