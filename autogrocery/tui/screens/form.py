"""The shape of every action form: fields, an error line, Submit / Cancel.

Submit validates in the form first (a problem is shown and nothing is sent); then an
exclusive worker sends the request. An API error is shown verbatim in the error line,
in place; success closes the form with a one-line result for a notification.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from autogrocery.tui.client import ApiClient, ApiError, Disconnected
from autogrocery.tui.forms import FormError
from autogrocery.tui.model import StoreModel

Send = Callable[[ApiClient], Awaitable[str]]


class FormScreen(ModalScreen[str | None]):
    BINDINGS = [  # noqa: RUF012 (textual's own idiom)
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "submit", "Submit"),
    ]
    heading = ""

    def __init__(self, client: ApiClient | None, model: StoreModel) -> None:
        super().__init__()
        self.client = client
        self.model = model

    def compose(self) -> ComposeResult:
        with Vertical(classes="form"):
            yield Label(self.heading, classes="form-title")
            yield from self.fields()
            yield Static("", id="form-error")
            with Horizontal(classes="buttons"):
                yield Button("Submit (ctrl+s)", variant="primary", id="submit")
                yield Button("Cancel (esc)", id="cancel")

    def fields(self) -> ComposeResult:
        raise NotImplementedError

    def prepare(self) -> Send:
        """Validate the fields; return what to send, or raise FormError."""
        raise NotImplementedError

    @property
    def error(self) -> str:
        return str(self.query_one("#form-error", Static).render())

    def show_error(self, text: str) -> None:
        line = self.query_one("#form-error", Static)
        line.update(Text(text))
        line.set_class(bool(text), "shown")

    def action_submit(self) -> None:
        try:
            send = self.prepare()
        except FormError as exc:
            self.show_error(str(exc))
            return
        if self.client is None:
            self.show_error("this dashboard is read-only (no store connection)")
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
            self.show_error(str(exc))
        except Disconnected as exc:
            self.show_error(f"the store is unreachable: {exc}")
        else:
            self.dismiss(result)
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
