"""A keyed table drawn with Textual's line API, cheap enough to redraw several times a
second under load (DataTable re-renders every visible cell after any update).

`sync(rows)` takes the rows to show, in order, each `(key, cells)`. A row whose cells
did not change keeps its rendered line; the cursor stays on the same row key when rows
move (except on the first row: there it stays, following the newest). Up/down/page
keys move the cursor, Enter (or a double click) selects a row.

When the table is narrower than its columns, columns are shown by priority (0 first):
a column that does not fit is left out, or narrowed down to its `least` width to fill
what is left, so an 80-column terminal shows what matters without scrolling sideways.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

Cell = str | Text
Row = tuple[str, tuple[Cell, ...]]


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str
    width: int
    priority: int = 0  # lower is shown first when space is short
    least: int = 0  # narrowest it may be drawn; 0: as `width` or not at all


def fit(columns: Sequence[Column], room: int) -> tuple[tuple[int, int], ...]:
    """(index, width) of the columns shown in `room` cells (each takes 2 more for its
    padding), in their own order."""
    widths: dict[int, int] = {}
    for index, column in sorted(enumerate(columns), key=lambda ic: ic[1].priority):
        if column.width + 2 <= room:
            widths[index] = column.width
            room -= column.width + 2
        elif column.least and column.least + 2 <= room:
            widths[index] = room - 2
            room = 0
    return tuple(sorted(widths.items()))


class LiveTable(ScrollView, can_focus=True):
    COMPONENT_CLASSES = {  # noqa: RUF012 (textual's own idiom)
        "live-table--header",
        "live-table--cursor",
        "live-table--odd",
    }
    DEFAULT_CSS = """
    LiveTable {
        height: 1fr;
    }
    LiveTable > .live-table--header {
        color: $text-muted;
        text-style: bold;
        background: $panel;
    }
    LiveTable > .live-table--cursor {
        background: $block-cursor-blurred-background;
    }
    LiveTable:focus > .live-table--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
    }
    LiveTable > .live-table--odd {
        background: $surface-lighten-1 40%;
    }
    """
    BINDINGS = [  # noqa: RUF012
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "cursor(-1000000)", "First", show=False),
        Binding("end", "cursor(1000000)", "Last", show=False),
        Binding("enter", "select", "Open", show=False),
    ]

    class RowHighlighted(Message):
        def __init__(self, table: LiveTable, key: str | None) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> LiveTable:
            return self.table

    class RowSelected(RowHighlighted):
        pass

    def __init__(self, columns: Sequence[Column], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.columns = tuple(columns)
        self._shown = tuple((i, c.width) for i, c in enumerate(self.columns))
        self._width = sum(column.width + 2 for column in self.columns)
        self._cells: dict[str, tuple[Cell, ...]] = {}
        self._order: list[str] = []
        self._strips: dict[str, Strip] = {}
        self._header: Strip | None = None
        self.cursor_row = 0
        self.virtual_size = Size(self._width, 1)

    # --- data ------------------------------------------------------------------------

    @property
    def row_keys(self) -> list[str]:
        return list(self._order)

    @property
    def row_count(self) -> int:
        return len(self._order)

    def cells(self, key: str) -> tuple[Cell, ...] | None:
        return self._cells.get(key)

    @property
    def current_key(self) -> str | None:
        row = self.cursor_row
        return self._order[row] if 0 <= row < len(self._order) else None

    def sync(self, rows: Sequence[Row]) -> None:
        before = self.current_key
        cells = dict(rows)
        self._strips = {
            key: strip
            for key, strip in self._strips.items()
            if self._cells.get(key) == cells.get(key)
        }
        order = [key for key, _ in rows]
        changed = order != self._order or len(self._strips) != len(order)
        self._cells, self._order = cells, order
        if before in cells and self.cursor_row > 0:  # at the top it stays there: newest first
            self.cursor_row = order.index(before)
        self.cursor_row = max(0, min(self.cursor_row, len(order) - 1))
        self.virtual_size = Size(self._width, len(order) + 1)
        if changed:
            self.refresh()
        if self.current_key != before:
            self.post_message(self.RowHighlighted(self, self.current_key))

    @property
    def shown_columns(self) -> list[str]:
        return [self.columns[index].key for index, _ in self._shown]

    def on_resize(self, event: events.Resize) -> None:
        room = event.size.width - self.styles.scrollbar_size_vertical  # when rows overflow
        shown = fit(self.columns, max(0, room))
        if shown != self._shown:
            self._shown = shown
            self._width = sum(width + 2 for _, width in shown)
            self.virtual_size = Size(self._width, len(self._order) + 1)
            self._strips.clear()
            self._header = None
            self.refresh()

    # --- cursor ----------------------------------------------------------------------

    def move_cursor(self, row: int) -> None:
        before = self.current_key
        self.cursor_row = max(0, min(row, len(self._order) - 1))
        self._scroll_to_cursor()
        self.refresh()
        if self.current_key != before:
            self.post_message(self.RowHighlighted(self, self.current_key))

    def _scroll_to_cursor(self) -> None:
        visible = max(1, self.scrollable_content_region.height - 1)
        top = int(self.scroll_y)
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False)
        elif self.cursor_row >= top + visible:
            self.scroll_to(y=self.cursor_row - visible + 1, animate=False)

    def action_cursor(self, step: int) -> None:
        self.move_cursor(self.cursor_row + step)

    def action_page(self, direction: int) -> None:
        self.move_cursor(self.cursor_row + direction * max(1, self.size.height - 2))

    def action_select(self) -> None:
        if self.current_key is not None:
            self.post_message(self.RowSelected(self, self.current_key))

    def on_click(self, event: events.Click) -> None:
        row = int(self.scroll_y) + event.y - 1
        if event.y >= 1 and 0 <= row < len(self._order):
            self.move_cursor(row)
            if event.chain >= 2:
                self.action_select()

    # --- drawing ---------------------------------------------------------------------

    def _line(self, cells: Sequence[Cell]) -> Strip:
        text = Text(no_wrap=True, end="")
        for index, width in self._shown:
            if index >= len(cells):
                break
            cell = cells[index]
            part = cell.copy() if isinstance(cell, Text) else Text(cell)
            part.truncate(width, overflow="ellipsis")
            part.align(part.justify if part.justify in ("right", "center") else "left", width)
            text.append(" ")
            text.append_text(part)
            text.append(" ")
        segments = list(text.render(self.app.console, end=""))
        return Strip(Segment.apply_style(segments, self.rich_style), text.cell_len)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        scroll_x, scroll_y = self.scroll_offset
        base = self.rich_style
        if y == 0:
            if self._header is None:
                self._header = self._line([column.label for column in self.columns])
            header = self.get_component_rich_style("live-table--header")
            head = Strip(Segment.apply_style(self._header, post_style=header))
            return head.crop_extend(scroll_x, scroll_x + width, base + header)
        index = scroll_y + y - 1
        if not 0 <= index < len(self._order):
            return Strip.blank(width, base)
        key = self._order[index]
        strip = self._strips.get(key)
        if strip is None:
            strip = self._strips[key] = self._line(self._cells[key])
        fill = base
        if index == self.cursor_row:
            cursor = self.get_component_rich_style("live-table--cursor")
            strip = Strip(Segment.apply_style(strip, post_style=cursor))
            fill = base + cursor
        elif index % 2:
            odd = Style(bgcolor=self.get_component_rich_style("live-table--odd").bgcolor)
            strip = Strip(Segment.apply_style(strip, post_style=odd))
            fill = base + odd
        return strip.crop_extend(scroll_x, scroll_x + width, fill)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()
        self._header = None
