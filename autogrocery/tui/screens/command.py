"""The command box: say what happened to the stock in plain words ("took 3 small cola",
"לקחתי 3 קולה קטן"), answer what the store asks back, see what it recorded.

The conversation is shown as it goes: each line typed, and each reply (a question lists
its numbered choices). While a question is open, what is typed answers it (same conversation id);
after a reply that ends the conversation, the next line starts a new one.
"""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Label, Static

from autogrocery.client import ApiError, Disconnected
from autogrocery.contract.commands import CommandReply
from autogrocery.tui.client import ApiClient
from autogrocery.tui.forms import plain
from autogrocery.tui.messages import StoreChanged

EXAMPLES = "took 3 small cola · threw away 2 milk · counted 40 eggs · got 5 boxes of cola cans"
STYLES = {"question": "bold", "done": "green", "cancelled": "yellow", "failed": "red"}


class CommandScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape", "close", "Close")]  # noqa: RUF012 (textual's own idiom)

    def __init__(self, client: ApiClient | None) -> None:
        super().__init__()
        self.client = client
        self.conversation: str | None = None  # while a question waits for its answer
        self.lines: list[Text] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="form command"):
            yield Label("Stock command  (esc closes)", classes="form-title")
            yield Static(f"Say what happened, e.g. {EXAMPLES}. English or Hebrew.", classes="hint")
            with VerticalScroll(id="command-log"):
                yield Static("", id="command-said")
            yield Input(placeholder="took 3 small cola", id="command")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#command", Input).focus()

    @property
    def said(self) -> str:
        """The conversation so far, as shown."""
        return "\n".join(line.plain for line in self.lines)

    def show(self, line: Text) -> None:
        self.lines.append(line)
        self.query_one("#command-said", Static).update(Text("\n").join(self.lines))
        self.query_one("#command-log", VerticalScroll).scroll_end(animate=False)

    def action_close(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted, "#command")
    def _submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            return
        event.input.value = ""
        self.show(Text(f"> {text}", style="bold"))
        if self.client is None:
            self.show(Text("this dashboard is read-only (no store connection)", style="red"))
            return
        self.send(self.client, text)

    @work(exclusive=True, group="command")
    async def send(self, client: ApiClient, text: str) -> None:
        box = self.query_one("#command", Input)
        box.disabled = True
        try:
            reply = await client.command(text, self.conversation)
        except ApiError as exc:
            self.conversation = None
            self.show(Text(plain(exc.status, exc.detail, exc.errors), style="red"))
        except Disconnected as exc:
            self.show(Text(f"the store is unreachable: {exc}", style="red"))
        else:
            self.answered(reply)
        finally:
            box.disabled = False
            box.focus()

    def answered(self, reply: CommandReply) -> None:
        status = reply.status
        self.conversation = reply.conversation_id if status == "question" else None
        self.show(Text(reply.text, style=STYLES.get(status, "")))
        if reply.movement:
            self.app.post_message(StoreChanged(reply.text))
