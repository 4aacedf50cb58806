"""SVG snapshots of the main screens with fixed data (tests/tui/fixed.py).

The SVGs under tests/tui/snapshots/ are Textual's own `export_screenshot()` of each
screen. After an intended change to how the dashboard looks, regenerate them with

    AUTOGROCERY_UPDATE_SNAPSHOTS=1 pytest tests/tui/test_snapshots.py

and review the new SVGs (open them in a browser) before committing. A mismatch writes
the screen as drawn next to the test's tmp dir and names it in the failure. Textual's
rendering changes between minor versions, so pyproject.toml pins textual to the minor
version that recorded them (snapshots/TEXTUAL_VERSION): the tests run everywhere,
CI included, and fail (never skip) under another minor version, saying how to
re-record. Raise the pin and re-record together.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import textual
from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from autogrocery.tui.app import DashboardApp
from autogrocery.tui.base import OperatorApp
from autogrocery.tui.chain.app import ChainApp
from autogrocery.tui.feed import Link
from autogrocery.tui.screens.actions import RestockScreen
from tests.tui import chain_fixed, fixed
from tests.tui.conftest import until

pytestmark = pytest.mark.timeout(60)

SNAPSHOTS = Path(__file__).parent / "snapshots"
VERSION_FILE = SNAPSHOTS / "TEXTUAL_VERSION"
UPDATE = os.environ.get("AUTOGROCERY_UPDATE_SNAPSHOTS") == "1"
SIZE = (140, 36)


def app() -> DashboardApp:
    return DashboardApp(
        None,
        model=fixed.model(),
        wall_clock=lambda: fixed.NOW,
        sample_interval=3600.0,  # the fixed history stays as it is
        url="http://127.0.0.1:5050",
    )


def compare(name: str, svg: str, tmp_path: Path) -> None:
    path = SNAPSHOTS / f"{name}.svg"
    if UPDATE:
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(svg, encoding="utf-8")
        VERSION_FILE.write_text(textual.__version__ + "\n", encoding="utf-8")
        return
    recorded = VERSION_FILE.read_text(encoding="utf-8").strip() if VERSION_FILE.exists() else ""
    assert minor(recorded) == minor(textual.__version__), (
        f"snapshots recorded with textual {recorded or '?'}, this is {textual.__version__} "
        "(pyproject.toml pins the minor version): re-record with AUTOGROCERY_UPDATE_SNAPSHOTS=1"
    )
    assert path.exists(), f"no snapshot {path}: record it with AUTOGROCERY_UPDATE_SNAPSHOTS=1"
    if path.read_text(encoding="utf-8") != svg:
        actual = tmp_path / f"{name}.svg"
        actual.write_text(svg, encoding="utf-8")
        pytest.fail(f"{name} differs from {path}; as drawn now: {actual}")


def minor(version: str) -> tuple[str, ...]:
    return tuple(version.split(".")[:2])


async def settled(pilot: Pilot[None], dashboard: OperatorApp, within: float = 10.0) -> str:
    """The screen once it stops changing (the footer, for one, fills in after focus
    moves): the same SVG three times in a row, 0.1 s apart."""
    deadline = time.monotonic() + within
    last, same = "", 0
    while same < 2:
        await pilot.pause(0.1)
        svg = dashboard.export_screenshot()
        same = same + 1 if svg == last else 0
        last = svg
        if time.monotonic() > deadline:
            raise AssertionError(f"the screen kept changing for {within}s")
    return last


async def screen(key: str | None, tmp_path: Path, name: str, size: tuple[int, int] = SIZE) -> None:
    dashboard = app()
    async with dashboard.run_test(size=size) as pilot:
        await until(pilot, lambda: dashboard.redraws > 0)
        if key is not None:
            before = dashboard.redraws
            await pilot.press(key)
            await until(pilot, lambda: dashboard.redraws > before)
        await pilot.pause(0.1)
        compare(name, await settled(pilot, dashboard), tmp_path)


@pytest.mark.parametrize(
    ("key", "name"),
    [
        (None, "orders"),
        ("2", "inventory"),
        ("3", "robots"),
        ("4", "analytics"),
        ("5", "alerts"),
        ("6", "reports"),
    ],
)
async def test_panel_snapshot(key: str | None, name: str, tmp_path: Path) -> None:
    await screen(key, tmp_path, name)


@pytest.mark.parametrize(
    ("key", "name"),
    [(None, "orders-80x24"), ("4", "analytics-80x24"), ("6", "reports-80x24")],
)
async def test_an_80_by_24_terminal_snapshot(key: str | None, name: str, tmp_path: Path) -> None:
    await screen(key, tmp_path, name, (80, 24))


async def test_disconnected_banner_snapshot(tmp_path: Path) -> None:
    dashboard = app()
    async with dashboard.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: dashboard.redraws > 0)
        dashboard.link = Link(False, "cannot connect: Connection refused", 4, 2.0)
        dashboard.show_link(dashboard.link)
        await pilot.pause(0.1)
        compare("disconnected", await settled(pilot, dashboard), tmp_path)


async def test_restock_form_with_an_error_snapshot(tmp_path: Path) -> None:
    dashboard = app()
    async with dashboard.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: dashboard.redraws > 0)
        await pilot.press("r")
        await until(pilot, lambda: isinstance(dashboard.screen, RestockScreen))
        form = dashboard.screen
        for widget in form.query(Input):
            widget.cursor_blink = False
        area = form.query_one("#manifest", TextArea)
        area.cursor_blink = False
        area.text = "BRD-002 80\nDAI-008 0\nXYZ-001 5"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "unknown SKU" in form.error)  # type: ignore[attr-defined]
        await pilot.pause(0.1)
        compare("restock-form", await settled(pilot, dashboard), tmp_path)


async def test_the_head_office_stores_panel_snapshot(tmp_path: Path) -> None:
    """The head office's dashboard (tests/tui/chain_fixed.py): a store up, one down, one
    never heard from, one behind the newest catalog version."""
    dashboard = ChainApp(
        None,
        model=chain_fixed.model(),
        wall_clock=lambda: chain_fixed.NOW,
        url="http://127.0.0.1:5060",
    )
    async with dashboard.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: dashboard.redraws > 0)
        await pilot.pause(0.1)
        compare("head-office-stores", await settled(pilot, dashboard), tmp_path)
