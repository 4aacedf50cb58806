"""How long the dashboard takes to redraw, for the log and for measurements.

Two figures per redraw: `update`, the time to bring the visible panel's widgets up to
date with the model (on the dashboard's loop), and `painted`, from the start of that
update until Textual has drawn the frame on the screen (it includes waiting for the
next screen refresh). `summary()` gives count, p50, p99 and max of each since the
last call; the app logs it once a minute.
"""

from __future__ import annotations

from dataclasses import dataclass, field


def _pct(ordered: list[float], p: float) -> float:
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] if ordered else 0.0


@dataclass(slots=True)
class RedrawTimes:
    update: list[float] = field(default_factory=list)  # seconds
    painted: list[float] = field(default_factory=list)
    total: int = 0

    def add_update(self, seconds: float) -> None:
        self.update.append(seconds)
        self.total += 1

    def add_painted(self, seconds: float) -> None:
        self.painted.append(seconds)

    def summary(self) -> dict[str, float]:
        """Milliseconds, over the redraws since the last call (then forgotten)."""
        update, painted = sorted(self.update), sorted(self.painted)
        self.update, self.painted = [], []
        result: dict[str, float] = {"redraws": float(len(update))}
        for name, values in (("update", update), ("painted", painted)):
            result[f"{name}_p50_ms"] = round(_pct(values, 0.50) * 1000, 2)
            result[f"{name}_p99_ms"] = round(_pct(values, 0.99) * 1000, 2)
            result[f"{name}_max_ms"] = round((values[-1] if values else 0.0) * 1000, 2)
        return result
