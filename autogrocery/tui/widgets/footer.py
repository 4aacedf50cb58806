"""The dashboard's footer: Textual's, fitted to the terminal's width."""

from __future__ import annotations

from textual import events
from textual.widgets import Footer

ROOM = 96  # columns the dashboard's keys take, spaced, with the palette's key beside them


class KeysFooter(Footer):
    """Narrower than `ROOM` (80 columns, say), the keys close up and the command
    palette's key (ctrl+p, in F1 as well) gives way, so every key of the dashboard shows
    without being cut."""

    def on_resize(self, event: events.Resize) -> None:
        narrow = event.size.width < ROOM
        if (self.compact, self.show_command_palette) != (narrow, not narrow):
            self.compact = narrow
            self.show_command_palette = not narrow
            self.call_after_refresh(self.recompose)
