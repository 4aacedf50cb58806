"""A bar chart of a time series drawn against zero, one column per sample, newest on
the right. Textual's Sparkline scales from the smallest value to the largest, which
draws 197 → 200 units as a full-height drop; here the bars' height is the value's
share of the largest value, so a glance is true."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.text import Text
from textual.widget import Widget

from autogrocery.tui.format import BARS, level


class Chart(Widget):
    COMPONENT_CLASSES = {"chart--caption"}  # noqa: RUF012 (textual's own idiom)
    DEFAULT_CSS = """
    Chart {
        height: 3;
        color: $accent;
    }
    Chart > .chart--caption {
        color: $foreground;
    }
    """

    def __init__(
        self,
        *,
        caption: Callable[[Sequence[float]], str] | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """`caption(shown)`, if given, is a first line (markup) about the values drawn."""
        super().__init__(id=id, classes=classes)
        self.caption = caption
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
        width, height = self.size.width, self.size.height
        if self.caption is None:
            return bars(self._data, width, height)
        shown = self._data[-width:] if width > 0 else ()
        caption = Text.from_markup(
            self.caption(shown), style=self.app.current_theme.foreground or ""
        )
        caption.truncate(width, overflow="ellipsis")
        if height <= 1:
            return caption
        return Text("\n", no_wrap=True, end="").join([caption, bars(shown, width, height - 1)])


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
