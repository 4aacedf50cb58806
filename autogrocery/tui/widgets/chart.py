"""A bar chart of a time series drawn against zero, one column per sample, newest on
the right. Textual's Sparkline scales from the smallest value to the largest, which
draws 197 → 200 units as a full-height drop; here the bars' height is the value's
share of the largest value, so a glance is true."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widget import Widget

from autogrocery.tui.format import BARS, level


class Chart(Widget):
    DEFAULT_CSS = """
    Chart {
        height: 3;
        color: $accent;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._data: tuple[float, ...] = ()

    @property
    def data(self) -> tuple[float, ...]:
        return self._data

    @data.setter
    def data(self, values: Sequence[float]) -> None:
        data = tuple(values)
        if data != self._data:
            self._data = data
            self.refresh()

    def render(self) -> Text:
        return bars(self._data, self.size.width, self.size.height)


def bars(data: Sequence[float], width: int, height: int) -> Text:
    """`height` lines of `width` cells: the last `width` values, against zero."""
    values = list(data)[-width:] if width > 0 else []
    high = max(values, default=0.0)
    steps = len(BARS) * max(1, height)
    heights = [level(v, high, steps) if high > 0 else 0 for v in values]
    pad = " " * (width - len(values))
    lines = []
    for row in range(height - 1, -1, -1):  # the top line first
        floor = row * len(BARS)
        line = "".join(
            " " if h <= floor else "█" if h >= floor + len(BARS) else BARS[h - floor - 1]
            for h in heights
        )
        lines.append(pad + line)
    return Text("\n".join(lines), no_wrap=True, end="")
