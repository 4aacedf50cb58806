"""What the signed-in operator is mailed (n): their email, which notices, at once or as
a daily digest, quiet hours, and the daily report (PUT /api/ops/notifications/preferences)."""

from __future__ import annotations

import re
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.widgets import Checkbox, Input, Label, RadioButton, RadioSet

from autogrocery.client import ApiError, Disconnected
from autogrocery.contract.notifications import PreferencesView
from autogrocery.tui.client import ApiClient
from autogrocery.tui.forms import FormError
from autogrocery.tui.model import StoreModel
from autogrocery.tui.screens.form import Check, FormScreen, Send

PATH = "/api/ops/notifications/preferences"
KINDS = {  # the API's notice kinds, as the form names them
    "low_stock": "Low stock",
    "expiring": "Lots expiring soon",
    "expired": "Expired stock written off",
    "large_movement": "Large movements",
    "robot_offline": "A robot offline",
    "head_office_unreachable": "Head office unreachable",
}
CLOCK = re.compile(r"([01]\d|2[0-3]):[0-5]\d")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def check_email(text: str) -> str | None:
    text = text.strip()
    return None if not text or EMAIL.fullmatch(text) else "an address like you@example.com"


def check_clock(text: str) -> str | None:
    text = text.strip()
    return None if not text or CLOCK.fullmatch(text) else "a time like 22:00 (or empty)"


class NotificationsScreen(FormScreen[StoreModel]):
    heading = "What you are mailed"

    def fields(self) -> ComposeResult:
        yield Label("", id="mail-configured")
        yield Label("Email (empty: no mail)")
        yield Input(placeholder="you@example.com", id="email")
        yield self.problem("email")
        for kind, label in KINDS.items():
            yield Checkbox(label, id=f"kind-{kind}")
        with RadioSet(id="mode"):
            yield RadioButton("Each at once", value=True, id="immediate")
            yield RadioButton("A daily digest", id="digest")
        yield Label("Quiet hours, store time (HH:MM to HH:MM; empty: none)")
        yield Input(placeholder="22:00", id="quiet-start")
        yield self.problem("quiet-start")
        yield Input(placeholder="07:00", id="quiet-end")
        yield self.problem("quiet-end")
        yield Checkbox("The daily report (sales, waste, reorder, at risk)", id="daily-report")

    def checks(self) -> dict[str, Check]:
        return {"email": check_email, "quiet-start": check_clock, "quiet-end": check_clock}

    def on_mount(self) -> None:
        self.query_one("#email", Input).focus()
        self.load()

    @work(exclusive=True, group="notifications-load")
    async def load(self) -> None:
        """Fill the form with what the store has."""
        if self.client is None:
            return
        try:
            found = await self.client.ask(PreferencesView, "GET", PATH)
        except (ApiError, Disconnected) as exc:
            self.show_error(f"could not read your preferences: {exc}")
            return
        self.query_one("#email", Input).value = found.email or ""
        for kind in KINDS:
            self.query_one(f"#kind-{kind}", Checkbox).value = kind in found.events
        self.query_one(f"#{found.mode}", RadioButton).value = True
        if found.quiet_hours is not None:
            self.query_one("#quiet-start", Input).value = found.quiet_hours.start
            self.query_one("#quiet-end", Input).value = found.quiet_hours.end
        self.query_one("#daily-report", Checkbox).value = found.daily_report
        said = "" if found.mail_configured else "⚠ the store has no SMTP relay (notify.smtp_host)"
        self.query_one("#mail-configured", Label).update(said)

    def prepare(self) -> Send:
        email = self.query_one("#email", Input).value.strip()
        start = self.query_one("#quiet-start", Input).value.strip()
        end = self.query_one("#quiet-end", Input).value.strip()
        for problem in (check_email(email), check_clock(start), check_clock(end)):
            if problem:
                raise FormError(problem)
        if bool(start) != bool(end):
            raise FormError("quiet hours need both a start and an end (or neither)")
        events = [kind for kind in KINDS if self.query_one(f"#kind-{kind}", Checkbox).value]
        digest = self.query_one("#digest", RadioButton).value
        body: dict[str, Any] = {
            "email": email or None,
            "events": events,
            "mode": "digest" if digest else "immediate",
            "quiet_hours": {"start": start, "end": end} if start else None,
            "daily_report": self.query_one("#daily-report", Checkbox).value,
        }

        async def send(client: ApiClient) -> str:
            saved = await client.ask(PreferencesView, "PUT", PATH, body)
            if saved.email is None:
                return "saved: you are mailed nothing"
            what = ", ".join(KINDS[kind].lower() for kind in saved.events) or "no notices"
            how = "in a daily digest" if saved.mode == "digest" else "at once"
            return f"saved: {saved.email} is told of {what}, {how}"

        return send
