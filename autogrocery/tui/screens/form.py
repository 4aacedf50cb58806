"""The shape of every action form: fields, a problem line under each checked field, an
error line, a result line, Submit / Close.

A field is checked as it is typed (`checks()`), its problem shown under it. Submit
validates the whole form (a problem is shown and nothing is sent; `BelowCost` asks
for a second ctrl+s); then an exclusive worker sends the request. A store's error
is put in plain words in the error line; success shows what changed in the result
line, the form stays open for the next one (`cleared()` empties what must not be
sent twice), and Esc closes it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, Static

from autogrocery.client import ApiError, Disconnected
from autogrocery.tui.client import ApiClient
from autogrocery.tui.forms import BelowCost, FormError, plain
from autogrocery.tui.messages import StoreChanged

Send = Callable[[ApiClient], Awaitable[str]]
Check = Callable[[str], str | None]
M = TypeVar("M")  # the dashboard's model the form reads (a store's, a head office's)


class FormScreen(ModalScreen[str | None], Generic[M]):
    BINDINGS = [  # noqa: RUF012 (textual's own idiom)
        Binding("escape", "cancel", "Close"),
        Binding("ctrl+s", "submit", "Submit"),
    ]
    heading = ""
    server = "the store"  # whom the form sends to, in its messages

    def __init__(self, client: ApiClient | None, model: M) -> None:
        super().__init__()
        self.client = client
        self.model = model
        self.results: list[str] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="form"):
            yield Label(self.heading, classes="form-title")
            yield from self.fields()
            yield Static("", id="form-error")
            yield Static("", id="form-done")
            with Horizontal(classes="buttons"):
                yield Button("Submit (ctrl+s)", variant="primary", id="submit")
                yield Button("Close (esc)", id="cancel")
        yield Footer()  # the form's keys, where the dashboard shows its own

    def fields(self) -> ComposeResult:
        raise NotImplementedError

    def prepare(self) -> Send:
        """Validate the fields; return what to send, or raise FormError."""
        raise NotImplementedError

    def checks(self) -> dict[str, Check]:
        """Input id → its check as typed; the form yields `problem(id)` under each."""
        return {}

    def cleared(self) -> None:
        """After a success: empty what must not be sent twice by accident."""

    @staticmethod
    def problem(field: str) -> Static:
        return Static("", id=f"{field}-problem", classes="field-problem")

    @property
    def error(self) -> str:
        return str(self.query_one("#form-error", Static).render())

    @property
    def done(self) -> str:
        return str(self.query_one("#form-done", Static).render())

    def show_error(self, text: str, *, warning: bool = False) -> None:
        line = self.query_one("#form-error", Static)
        line.update(Text(text))
        line.set_class(bool(text), "shown")
        line.set_class(warning, "warning")
        self._into_view(line, text)

    def show_done(self, text: str) -> None:
        line = self.query_one("#form-done", Static)
        line.update(Text(text))
        line.set_class(bool(text), "shown")
        self._into_view(line, text)

    def _into_view(self, line: Static, text: str) -> None:
        """A form taller than the terminal scrolls: bring the answer into view (once it
        is laid out), so it is never said below the fold."""
        if text:
            self.call_after_refresh(line.scroll_visible, animate=False)

    @on(Input.Changed)
    def _check_field(self, event: Input.Changed) -> None:
        check = self.checks().get(event.input.id or "")
        if check is None:
            return
        problem = check(event.value)
        line = self.query_one(f"#{event.input.id}-problem", Static)
        line.update(Text(problem or ""))
        line.set_class(bool(problem), "shown")

    def action_submit(self) -> None:
        try:
            send = self.prepare()
        except BelowCost as exc:
            self.show_error(str(exc), warning=True)
            return
        except FormError as exc:
            self.show_error(str(exc))
            return
        if self.client is None:
            self.show_error(f"this dashboard is read-only (no connection to {self.server})")
            return
        self.show_error("")
        self.submit(self.client, send)

    def action_cancel(self) -> None:
        self.dismiss(None)

    @work(exclusive=True, group="form")
    async def submit(self, client: ApiClient, send: Send) -> None:
        button = self.query_one("#submit", Button)
        button.disabled = True
        try:
            result = await send(client)
        except ApiError as exc:
            self.show_error(plain(exc.status, exc.detail, exc.errors, server=self.server))
        except Disconnected as exc:
            self.show_error(f"{self.server} is unreachable: {exc}")
        else:
            self.results.append(result)
            self.show_done(f"✔ {result}")
            self.cleared()
            self.app.post_message(StoreChanged(result))
        finally:
            button.disabled = False

    @on(Button.Pressed, "#submit")
    def _submit_pressed(self) -> None:
        self.action_submit()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    @on(Input.Submitted)
    def _enter(self) -> None:
        self.action_submit()
