"""The dashboard's command box against a real store: a command typed in plain words, the
question the store asks back answered in the box, the yes it asks for, the movement
recorded and the
inventory panel showing the new level."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from autogrocery.tui.client import ApiClient
from autogrocery.tui.screens.command import CommandScreen
from autogrocery.tui.widgets.table import LiveTable
from tests.tui.conftest import Store, connected, dashboard, shown, until

pytestmark = pytest.mark.timeout(60)


async def type_line(pilot, box: Input, text: str) -> None:  # type: ignore[no-untyped-def]
    box.value = text
    await pilot.press("enter")


async def test_a_command_its_question_and_the_movement(store: Store, client: ApiClient) -> None:
    before = (await store.live.product("DAI-002")).on_hand
    app = dashboard(client)
    async with app.run_test(size=(160, 50)) as pilot:
        await connected(pilot, app)
        await pilot.press("2")
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, CommandScreen))
        screen = app.screen
        assert isinstance(screen, CommandScreen)
        box = screen.query_one("#command", Input)
        assert box.has_focus

        await type_line(pilot, box, "threw away 2 milk")
        await until(pilot, lambda: "Which one?" in screen.said)
        assert "> threw away 2 milk" in screen.said
        assert "1) Whole milk (DAI-002" in screen.said
        assert screen.conversation is not None
        moves, _ = await store.live.movements(sku="DAI-002", movement_type="WASTE")
        assert moves == []  # a question records nothing

        await type_line(pilot, box, "1")
        await until(pilot, lambda: "Record it? (yes or no)" in screen.said)
        assert f"Write off 2 l of Whole milk as waste: on hand {before} → {before - 2}" in (
            screen.said
        )
        moves, _ = await store.live.movements(sku="DAI-002", movement_type="WASTE")
        assert moves == []  # nothing is recorded before the yes

        await type_line(pilot, box, "yes")
        await until(pilot, lambda: "Wrote off 2 l of Whole milk" in screen.said)
        assert f"on hand {before} → {before - 2}" in screen.said
        assert screen.conversation is None  # the next line starts a new command
        moves, _ = await store.live.movements(sku="DAI-002", movement_type="WASTE")
        assert [(m.delta, m.ref, m.user) for m in moves] == [(-2, "threw away 2 milk", "admin")]

        await type_line(pilot, box, "took 3 xyzzy")
        await until(pilot, lambda: 'I know no product like "xyzzy"' in screen.said)

        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, CommandScreen))
        table = app.query_one("#inventory-table", LiveTable)
        await until(pilot, lambda: (shown(table, "DAI-002") or [""] * 4)[3] == str(before - 2))
    assert client.sent["POST /api/ops/commands"] == 4
