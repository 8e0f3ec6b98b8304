"""The add dialog: paste many lines, see what would happen, submit with ctrl+s."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Select, Static, TextArea

from core import Haul, Preview
from core.redact import redact_url
from core.sources import split_lines

PREVIEW_DELAY = 0.3
SHOWN_REFUSALS = 200


@dataclass(frozen=True)
class AddRequest:
    """What the person asked for; the app submits it through the facade."""

    lines: list[str]
    listing: bool
    items_selector: str | None
    next_selector: str | None
    priority: int


def preview_text(preview: Preview) -> Text:
    """Counts first, then every refused line with its reason (the valid rest still go in)."""
    text = Text()
    text.append(f"{len(preview.valid)} new", style="bold green")
    text.append(" · ")
    text.append(f"{len(preview.already)} already queued", style="bold")
    text.append(" · ")
    text.append(f"{len(preview.refused)} refused", style="bold red" if preview.refused else "")
    for refusal in preview.refused[:SHOWN_REFUSALS]:
        text.append("\n✗ ", style="red")
        text.append(refusal.given)
        text.append(f" — {refusal.reason}", style="dim")
    if len(preview.refused) > SHOWN_REFUSALS:
        text.append(f"\n… and {len(preview.refused) - SHOWN_REFUSALS} more refused")
    for duplicate in preview.already[:20]:
        text.append("\n= ", style="yellow")
        text.append(redact_url(duplicate.given))
        if duplicate.item_id:
            text.append(f" — already item #{duplicate.item_id} ({duplicate.state.value})",
                        style="dim")  # fmt: skip
        else:
            text.append(" — repeated in this paste", style="dim")
    return text


class AddScreen(ModalScreen[AddRequest | None]):
    """Lines go in a TextArea (Input keeps only a paste's first line: TUI.md)."""

    BINDINGS = [
        Binding("ctrl+s", "submit", "Submit", priority=True),
        Binding("escape", "dismiss(None)", "Cancel"),
    ]

    def __init__(self, haul: Haul) -> None:
        super().__init__()
        self.haul = haul

    def compose(self) -> ComposeResult:
        with Vertical(id="add-dialog"):
            yield Label("Add URLs — one per line; paste as many as you like", id="add-title")
            yield TextArea(id="add-lines", soft_wrap=False, show_line_numbers=True)
            with Horizontal(id="add-options"):
                yield Select(  # auto: files and item pages; listings: pages of item links
                    [("auto", "auto"), ("listings", "listing")],
                    value="auto", allow_blank=False, id="add-kind",
                )  # fmt: skip
                yield Input(placeholder="item links CSS (listings)", id="add-items")
                yield Input(placeholder="next page CSS", id="add-next")
                yield Input(value="0", placeholder="priority", id="add-priority", type="integer")
            with VerticalScroll(id="add-preview-box"):
                yield Static("Nothing yet.", id="add-preview")
            yield Label("ctrl+s submit · esc cancel", id="add-hint")

    def on_mount(self) -> None:
        self.query_one("#add-lines", TextArea).focus()

    @on(TextArea.Changed, "#add-lines")
    def _lines_changed(self) -> None:
        self._refresh_preview()

    @work(exclusive=True, group="preview")
    async def _refresh_preview(self) -> None:
        """Debounced: a paste of thousands of lines is judged once, after it lands."""
        await asyncio.sleep(PREVIEW_DELAY)
        lines = split_lines(self.query_one("#add-lines", TextArea).text)
        preview = await self.haul.preview(lines)
        self.query_one("#add-preview", Static).update(preview_text(preview))

    def _request(self) -> AddRequest:
        lines = split_lines(self.query_one("#add-lines", TextArea).text)
        listing = self.query_one("#add-kind", Select).value == "listing"
        items = self.query_one("#add-items", Input).value.strip() or None
        following = self.query_one("#add-next", Input).value.strip() or None
        raw_priority = self.query_one("#add-priority", Input).value.strip()
        priority = int(raw_priority) if raw_priority.lstrip("-").isdigit() else 0
        return AddRequest(lines, listing, items, following, priority)

    def action_submit(self) -> None:
        request = self._request()
        if not any(line.strip() for line in request.lines):
            self.notify("Nothing to add: paste or type some URLs first.", severity="warning")
            return
        if request.listing and not request.items_selector:
            self.notify("Listings need an item links CSS selector.", severity="warning")
            self.query_one("#add-items", Input).focus()
            return
        self.dismiss(request)
