"""Small text formats for the panels: times, latencies, statuses, text sparklines."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from rich.text import Text

BARS = "▁▂▃▄▅▆▇█"
STATUS_STYLES = {
    "PREVIEWED": "cyan",
    "PROCESSING": "yellow",
    "COMPLETED": "green",
    "CANCELLED": "dim",
    "EXPIRED": "dim",
    "FAILED": "bold red",
    "idle": "green",
    "busy": "yellow",
    "offline": "bold white on red",
    # a head office's stores and transfers
    "up": "green",
    "down": "bold white on red",
    "never": "dim",
    "REQUESTED": "cyan",
    "SHIPPED": "yellow",
    "RECEIVED": "green",
    "REFUSED": "bold red",
}
LABELS = {"offline": "✖ OFFLINE", "down": "✖ down"}


def parse_time(value: object) -> float | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def clock(value: object) -> str:
    """`2024-05-01T12:01:02.345Z` → `12:01:02` (UTC, as the store writes it)."""
    if not isinstance(value, str) or "T" not in value:
        return "-"
    return value.split("T", 1)[1][:8]


def ago(value: object, now: float) -> str:
    at = parse_time(value)
    if at is None:
        return "-"
    seconds = max(0.0, now - at)
    if seconds < 60:
        return f"{seconds:.0f}s ago"
    if seconds < 3600:
        return f"{seconds / 60:.0f}m ago"
    return f"{seconds / 3600:.0f}h ago"


def latency(ms: object) -> str:
    if not isinstance(ms, int | float):
        return "-"
    if ms >= 1000:
        return f"{ms / 1000:.2f} s"
    return f"{ms:.1f} ms"


def short(ms: object) -> str:
    """A latency in few characters: `27 ms`, `1.2 ms`, `2.2 s`."""
    if not isinstance(ms, int | float):
        return "-"
    if ms >= 1000:
        return f"{ms / 1000:.1f} s"
    return f"{ms:.0f} ms" if ms >= 10 else f"{ms:.1f} ms"


def status(value: str) -> Text:
    return Text(LABELS.get(value, value), style=STATUS_STYLES.get(value, ""))


def spark(values: Sequence[float], width: int, top: float = 0.0) -> str:
    """The last `width` values as block characters drawn against zero: a full block is
    the largest value (or `top`, if larger), so 197 next to 200 looks nearly the same
    and not like a drop. Zero is blank; anything above zero shows at least a sliver."""
    recent = list(values)[-width:]
    high = max([top, *recent]) if recent else 0.0
    if high <= 0:
        return " " * len(recent)
    return "".join(BARS[level(v, high, len(BARS)) - 1] if v > 0 else " " for v in recent)


def level(value: float, high: float, steps: int) -> int:
    """`value` out of `high` in `steps` steps (1 … steps), at least 1 above zero."""
    return max(1, min(steps, round(value / high * steps))) if value > 0 else 0


class Line(Protocol):
    """A line of an order, a restock or a transfer: so many of a SKU."""

    @property
    def sku(self) -> str: ...
    @property
    def quantity(self) -> int: ...


def items(lines: Sequence[Line], width: int) -> str:
    times = "\u00d7"  # the multiplication sign
    text = ", ".join(f"{line.quantity}{times}{line.sku}" for line in lines)
    return text if len(text) <= width else text[: width - 1] + "…"


def plural(count: int, word: str) -> str:
    """'1 order', '2,400 orders'."""
    return f"{count:,} {word}{'' if count == 1 else 's'}"
