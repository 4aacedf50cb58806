"""What harlequin and posting users expect: F1 and ? open the key help, Ctrl-C quits,
80x24 is usable (columns by priority, the footer and the status line fit), the theme
is remembered between runs, and the dashboard measures its own redraws."""

from __future__ import annotations

import io
import logging
import re
from pathlib import Path

import orjson
import pytest
from rich.console import Console
from textual.widget import Widget
from textual.widgets import Footer, HelpPanel, Input, Label, Static

from autogrocery.tui.app import DashboardApp
from autogrocery.tui.screens.actions import AdjustScreen
from autogrocery.tui.screens.command import CommandScreen
from autogrocery.tui.widgets.table import LiveTable
from tests.tui import fixed
from tests.tui.conftest import until

pytestmark = pytest.mark.timeout(60)


def app(**options: object) -> DashboardApp:
    return DashboardApp(
        None,
        model=fixed.model(),
        wall_clock=lambda: fixed.NOW,
        sample_interval=3600.0,
        **options,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("key", ["f1", "question_mark"])
async def test_f1_and_question_mark_toggle_the_key_help(key: str) -> None:
    dashboard = app()
    async with dashboard.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: dashboard.redraws > 0)
        await pilot.press(key)
        await until(pilot, lambda: bool(dashboard.screen.query(HelpPanel)))
        await pilot.press(key)
        await until(pilot, lambda: not dashboard.screen.query(HelpPanel))


async def test_a_question_mark_in_a_text_field_is_text() -> None:
    dashboard = app()
    async with dashboard.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: dashboard.redraws > 0)
        await pilot.press("s")
        await until(pilot, lambda: isinstance(dashboard.screen, AdjustScreen))
        dashboard.screen.query_one("#note", Input).focus()
        await pilot.press("question_mark")
        await until(pilot, lambda: dashboard.screen.query_one("#note", Input).value == "?")
        assert not dashboard.screen.query(HelpPanel)


async def test_ctrl_c_quits() -> None:
    dashboard = app()
    async with dashboard.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: dashboard.redraws > 0)
        await pilot.press("ctrl+c")
        await until(pilot, lambda: not dashboard.is_running)


def line(widget: Static) -> str:
    return str(widget.render())


@pytest.mark.parametrize(
    ("key", "table", "columns"),
    [
        ("1", "#orders-table", ["id", "status", "items", "total"]),
        ("2", "#inventory-table", ["sku", "name", "on_hand", "reserved", "available"]),
        ("3", "#robots-table", ["robot", "aisle", "state", "done", "failed"]),
        ("5", "#alerts-table", ["sku", "name", "available", "min_level", "raised"]),
        ("6", "#expiring-table", ["sku", "name", "left", "on_hand"]),
        ("6", "#usage-table", ["sku", "name", "total", "days"]),
    ],
)
async def test_80_by_24_shows_what_matters_without_scrolling_sideways(
    key: str, table: str, columns: list[str]
) -> None:
    dashboard = app()
    async with dashboard.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: dashboard.redraws > 0)
        await pilot.press(key)
        shown = dashboard.main.query_one(table, LiveTable)
        await until(pilot, lambda: shown.row_count > 0)
        assert set(columns) <= set(shown.shown_columns), shown.shown_columns
        assert shown.virtual_size.width <= shown.size.width  # no sideways scrolling
        status = line(dashboard.main.query_one("#status", Static))
        assert len(status) <= 80 - 2, status  # its padding
        assert "5,239 orders" in status
        footer = dashboard.main.query_one(Footer)
        drawn = [k for k in footer.query("FooterKey") if k.region.width]
        assert {"r", "s", "c", "e", "f", "k", "f1", "q"} <= {k.key for k in drawn}  # type: ignore[attr-defined]
        assert all(k.region.right <= 80 for k in drawn)


@pytest.mark.parametrize("size", [(80, 24), (140, 36)])
async def test_the_stock_command_box_has_one_name_in_the_footer_the_help_and_its_title(
    size: tuple[int, int],
) -> None:
    dashboard = app()
    async with dashboard.run_test(size=size) as pilot:
        await until(pilot, lambda: dashboard.redraws > 0)
        footer = dashboard.main.query_one(Footer)
        key = await until(pilot, lambda: shown_key(footer, "c"))
        assert "c Stock command" in " ".join(str(key.render()).split())  # type: ignore[attr-defined]
        assert key.region.right <= size[0]  # type: ignore[attr-defined]

        await pilot.press("f1")
        await until(pilot, lambda: bool(dashboard.screen.query("BindingsTable")))
        said = "\n".join(drawn(table) for table in dashboard.screen.query("BindingsTable"))
        assert re.search(r"^\s*c Stock command\s*$", said, re.MULTILINE), said
        assert "Say" not in said.split()
        await pilot.press("f1")

        await pilot.press("c")
        await until(pilot, lambda: isinstance(dashboard.screen, CommandScreen))
        title = dashboard.screen.query_one(".form-title", Label)
        assert str(title.render()).startswith("Stock command")


def shown_key(footer: Footer, key: str) -> object:
    """The footer's key `key`, once it is laid out."""
    return next((k for k in footer.query("FooterKey") if k.key == key and k.region.width), None)  # type: ignore[attr-defined]


def drawn(widget: Widget) -> str:
    console = Console(width=120, file=io.StringIO(), record=True)
    console.print(widget.render())
    return console.export_text()


async def test_the_reports_at_80_by_24_show_whole_names_and_dates() -> None:
    """Each report as wide as the terminal (side by side they cut names to five letters
    and the period's dates off); the panel scrolls to the ones below, as Tab reaches
    their tables."""
    dashboard = app()
    names = {sku: item.name for sku, item in dashboard.model.inventory.items()}
    async with dashboard.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: dashboard.redraws > 0)
        await pilot.press("6")
        panel = dashboard.main.query_one("#reports-panel")
        for key in ("expiring", "reorder", "waste", "usage"):
            table = dashboard.main.query_one(f"#{key}-table", LiveTable)
            await until(pilot, lambda table=table: table.row_count > 0)  # type: ignore[misc]
            table.focus()  # as Tab does: the panel scrolls it into view
            await until(pilot, lambda table=table: inside(table, panel))  # type: ignore[misc]
            assert "name" in table.shown_columns, (key, table.shown_columns)
            for row, sku in enumerate(table.row_keys, start=1):
                line = table.render_line(row).text
                cells = table.cells(sku)
                assert cells is not None
                name = names.get(str(cells[0]).strip()) or str(cells[1])
                assert name in line, (key, line)  # whole, not cut with an ellipsis
                if key == "expiring":
                    assert str(cells[2]) in line, (key, line)  # the best-before date
            title = dashboard.main.query_one(f"#{key}-title", Label)
            said = str(title.render())
            assert len(said) <= title.region.width, (key, said, title.region.width)
        for key in ("waste", "usage"):  # the period, both of its dates
            assert "2025-12-26 … 2026-01-01" in str(
                dashboard.main.query_one(f"#{key}-title", Label).render()
            )


def inside(widget: Widget, container: Widget) -> bool:
    """Whether the whole of `widget` is drawn, within what `container` shows."""
    region, shown = widget.region, container.region
    return bool(region.height) and shown.contains_region(region)


async def test_the_analytics_panel_fits_in_24_lines() -> None:
    dashboard = app()
    async with dashboard.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: dashboard.redraws > 0)
        await pilot.press("4")
        last = dashboard.main.query_one("#chart-p99")
        await until(pilot, lambda: last.size.height > 0)
        assert last.region.bottom <= dashboard.main.query_one("#status").region.y


async def test_the_theme_is_remembered_between_runs(tmp_path: Path) -> None:
    settings = tmp_path / "config" / "dashboard.json"
    first = app(settings_path=settings)
    async with first.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: first.redraws > 0)
        assert first.theme != "nord"
        first.theme = "nord"  # as the palette's "Change theme" does
        await until(pilot, lambda: settings.exists())
    assert orjson.loads(settings.read_bytes()) == {"theme": "nord"}
    second = app(settings_path=settings)
    async with second.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: second.redraws > 0)
        assert second.theme == "nord"


async def test_redraw_times_are_measured_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    dashboard = app(redraw_hz=50.0)
    async with dashboard.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: dashboard.redraws > 0)
        for key in "234561":  # each a new panel: each a redraw
            before = dashboard.redraws
            await pilot.press(key)
            await until(pilot, lambda before=before: dashboard.redraws > before)
        await until(pilot, lambda: len(dashboard.timing.painted) >= 5)
        with caplog.at_level(logging.INFO, logger="autogrocery.tui.app"):
            dashboard._log_timing()
    [record] = [r for r in caplog.records if "dashboard redraws" in r.getMessage()]
    figures = record.redraw  # type: ignore[attr-defined]
    assert figures["redraws"] >= 6
    assert 0 < figures["update_p50_ms"] <= figures["update_max_ms"]
    assert figures["update_p50_ms"] <= figures["painted_p50_ms"]  # painting comes after


async def test_the_palette_names_every_action_panel_and_filter() -> None:
    dashboard = app()
    async with dashboard.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: dashboard.redraws > 0)
        found = {c.title: c for c in dashboard.get_system_commands(dashboard.screen)}
        assert {"Restock", "Adjust stock", "Change price or min level", "Show alerts"} <= set(found)
        found["Waste over 30 days"].callback()
        await until(pilot, lambda: dashboard.active == "reports")
        reports = dashboard.main.query_one("#reports-panel")
        await until(pilot, lambda: reports.period == 30)  # type: ignore[attr-defined]
        found["Show restocks only"].callback()
        panel = dashboard.main.query_one("#orders-panel")
        await until(pilot, lambda: panel.kind == "RESTOCK")  # type: ignore[attr-defined]
        table = dashboard.main.query_one("#orders-table", LiveTable)
        await until(pilot, lambda: table.row_keys == ["rst_00000000000000000001"])
        found["Orders: failed"].callback()
        await until(pilot, lambda: panel.status == "FAILED")  # type: ignore[attr-defined]
