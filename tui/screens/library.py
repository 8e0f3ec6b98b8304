"""The library screen: finished files with search, provenance, a thumbnail and delete."""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import urlsplit

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Footer, Input, Label, Static

from core import Haul, HaulError
from core.redact import redact_url
from core.units import human_bytes

PREVIEW_ROWS = 10
NO_PREVIEW = "[no preview]"


def source_host(entry: dict[str, Any]) -> str:
    """Where the entry came from at a glance: the first requested URL's host, or `local`."""
    if not entry["sources"]:
        return "?"
    parts = urlsplit(entry["sources"][0]["requested_url"])
    if parts.scheme not in ("http", "https"):
        return "local"
    return parts.hostname or "?"


def entry_title(entry: dict[str, Any]) -> str:
    return entry["title"] or entry["path"].rsplit("/", 1)[-1]


def matches(entry: dict[str, Any], words: list[str]) -> bool:
    """Every search word appears in the title, source host or path (case-insensitive)."""
    haystack = f"{entry_title(entry)} {source_host(entry)} {entry['path']}".lower()
    return all(word in haystack for word in words)


def half_blocks(path: str, width: int, rows: int) -> Text | None:
    """The picture fitted into width×rows cells, two pixels per cell (`▀`: top on bottom).

    Pillow is optional: None without it, or when the file is not a readable picture, so
    the caller shows a placeholder instead. Runs in a thread: decoding is file I/O.
    """
    try:
        from PIL import Image, ImageOps
    except ImportError:
        return None
    try:
        with Image.open(path) as image:
            picture = ImageOps.contain(image.convert("RGB"), (max(1, width), max(1, rows) * 2))
    except (OSError, ValueError):
        return None
    pixels = picture.load()
    columns, height = picture.size
    text = Text(no_wrap=True, end="")
    for y in range(0, height, 2):
        if y:
            text.append("\n")
        for x in range(columns):
            top = "#{:02x}{:02x}{:02x}".format(*pixels[x, y])
            if y + 1 < height:
                bottom = "#{:02x}{:02x}{:02x}".format(*pixels[x, y + 1])
                text.append("▀", style=f"{top} on {bottom}")
            else:
                text.append("▀", style=top)
    return text


async def listing_sources(haul: Haul, entry: dict[str, Any]) -> dict[int, str]:
    """The redacted URL of each listing an entry's sources came from, by item id."""
    listings: dict[int, str] = {}
    for parent_id in sorted({s["parent_id"] for s in entry["sources"] if s["parent_id"]}):
        parent = await haul.item(parent_id)
        if parent is not None:
            listings[parent_id] = redact_url(parent.source)
    return listings


def _field(text: Text, label: str, value: str) -> None:
    """A label over its value: URLs and paths are long, a side panel is narrow."""
    text.append(f"\n{label}\n", style="dim")
    text.append(f"  {value}")


def describe_entry(entry: dict[str, Any], listings: dict[int, str]) -> Text:
    """Provenance, path, hash and description; every URL redacted, nothing read as markup."""
    text = Text()
    text.append(entry_title(entry), style="bold")
    added = time.strftime("%Y-%m-%d %H:%M", time.localtime(entry["created_at"]))
    kind = entry["content_type"] or "unknown type"
    text.append(f"\n{kind} · {human_bytes(entry['size'])} · added {added}\n", style="dim")
    for number, source in enumerate(entry["sources"], start=1):
        text.append(f"\nsource {number}", style="bold")
        text.append(f" · batch #{source['batch_id']} · item #{source['item_id']}", style="dim")
        _field(text, "requested", redact_url(source["requested_url"]))
        if source["final_url"] and source["final_url"] != source["requested_url"]:
            _field(text, "final", redact_url(source["final_url"]))
        if source["parent_id"] is not None:
            listing = listings.get(source["parent_id"], "")
            _field(text, f"listing #{source['parent_id']}", listing)
    text.append("\n")
    _field(text, "path", entry["path"])
    _field(text, "sha256", entry["sha256"])
    if entry["description"]:
        text.append("\n\n")
        text.append(entry["description"])
    return text


class ConfirmDelete(ModalScreen[bool | None]):
    """Asks before an entry goes. The answer is `keep_file`; None means delete nothing."""

    CSS_PATH = "screens.tcss"
    BINDINGS = [
        Binding("y", "answer(False)", "Delete entry and file"),
        Binding("k", "answer(True)", "Delete entry, keep file"),
        Binding("n,escape", "answer(None)", "No"),
    ]

    def __init__(self, title: str) -> None:
        super().__init__()
        self.entry_title = title

    def compose(self) -> ComposeResult:
        with Vertical(id="delete-dialog"):
            yield Label(Text(f"Delete “{self.entry_title}”?"))
            yield Label("y  delete the entry and its file\nk  delete the entry, keep the file\n"
                        "n  keep both", classes="hint")  # fmt: skip

    def action_answer(self, keep_file: bool | None) -> None:
        self.dismiss(keep_file)


class LibraryScreen(Screen[None]):
    """Renders the facade's library each time it is shown; keeps only what it draws."""

    CSS_PATH = "screens.tcss"
    HELP_TITLE = "Library"
    BINDINGS = [
        Binding("slash", "search", "Search", key_display="/"),
        Binding("d", "delete", "Delete"),
        Binding("r", "reload", "Reload"),
        Binding("enter", "details", "Details", show=False),
    ]

    def __init__(self, haul: Haul) -> None:
        super().__init__()
        self.haul = haul
        self._entries: list[dict[str, Any]] = []

    def compose(self) -> ComposeResult:
        yield Input(placeholder="search title, host or path (/ to focus, esc to clear)",
                    id="library-search")  # fmt: skip
        with Horizontal(id="library-body"):
            yield DataTable(id="library-table", cursor_type="row", zebra_stripes=True)
            with VerticalScroll(id="library-side"):
                yield Static(Text(NO_PREVIEW), id="library-preview")
                yield Static(id="library-info")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#library-table", DataTable)
        for label, key in (("title", "title"), ("type", "type"), ("size", "size"),
                           ("added", "added"), ("source", "host")):  # fmt: skip
            table.add_column(label, key=key)
        table.focus()

    def on_screen_resume(self) -> None:
        self.action_reload()

    # -- reading and drawing --------------------------------------------------------------

    @work(exclusive=True, group="library-load")
    async def action_reload(self) -> None:
        self._entries = await self.haul.library()
        self._fill()

    def _visible(self) -> list[dict[str, Any]]:
        words = self.query_one("#library-search", Input).value.lower().split()
        return [entry for entry in self._entries if matches(entry, words)]

    def _fill(self) -> None:
        """Redraw the table from the last read, keeping the cursor on the same entry."""
        table = self.query_one("#library-table", DataTable)
        current = self.selected_entry()
        table.clear()
        for entry in self._visible():
            added = time.strftime("%Y-%m-%d", time.localtime(entry["created_at"]))
            table.add_row(
                Text(entry_title(entry)),
                Text(entry["content_type"] or "?"),
                Text(human_bytes(entry["size"]), justify="right"),
                added,
                Text(source_host(entry)),
                key=str(entry["id"]),
            )
        if current is not None and str(current["id"]) in table.rows:
            table.move_cursor(row=table.get_row_index(str(current["id"])))
        self._show_side(self.selected_entry())

    def selected_entry(self) -> dict[str, Any] | None:
        table = self.query_one("#library-table", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((entry for entry in self._entries if str(entry["id"]) == key), None)

    @on(DataTable.RowHighlighted, "#library-table")
    def _highlighted(self) -> None:
        self._show_side(self.selected_entry())

    @on(DataTable.RowSelected, "#library-table")
    def _selected(self) -> None:
        self.action_details()

    def _show_side(self, entry: dict[str, Any] | None) -> None:
        info = self.query_one("#library-info", Static)
        preview = self.query_one("#library-preview", Static)
        if entry is None:
            preview.update(Text(""))
            empty = "nothing matches the search" if self._entries else "the library is empty"
            info.update(Text(empty, style="dim"))
            return
        self._draw_side(entry)

    @work(exclusive=True, group="library-side")
    async def _draw_side(self, entry: dict[str, Any]) -> None:
        """Parent listings are looked up and the thumbnail decoded off the loop, then drawn."""
        listings = await listing_sources(self.haul, entry)
        picture = None
        if entry["thumbnail"]:
            side = self.query_one("#library-side").content_size
            rows = max(3, min(PREVIEW_ROWS, side.height // 3))
            picture = await asyncio.to_thread(half_blocks, entry["thumbnail"], side.width, rows)
        self.query_one("#library-preview", Static).update(picture or Text(NO_PREVIEW, "dim"))
        self.query_one("#library-info", Static).update(describe_entry(entry, listings))

    # -- keys -----------------------------------------------------------------------------

    def action_search(self) -> None:
        self.query_one("#library-search", Input).focus()

    @on(Input.Changed, "#library-search")
    def _search_changed(self) -> None:
        self._fill()

    @on(Input.Submitted, "#library-search")
    def _search_done(self) -> None:
        self.query_one("#library-table", DataTable).focus()

    def key_escape(self) -> None:
        search = self.query_one("#library-search", Input)
        if search.has_focus or search.value:
            search.value = ""
            self.query_one("#library-table", DataTable).focus()

    def action_details(self) -> None:
        from .detail import DetailScreen  # detail imports this module for describe_entry

        entry = self.selected_entry()
        item_ids = [s["item_id"] for s in entry["sources"] if s["item_id"]] if entry else []
        if item_ids:
            self.app.push_screen(DetailScreen(self.haul, item_ids[0]))

    def action_delete(self) -> None:
        entry = self.selected_entry()
        if entry is not None:
            self.app.push_screen(
                ConfirmDelete(entry_title(entry)),
                lambda keep_file: self._delete(entry["id"], keep_file),
            )

    @work(group="library-delete")
    async def _delete(self, entry_id: int, keep_file: bool | None) -> None:
        if keep_file is None:
            return
        try:
            await self.haul.delete_entry(entry_id, keep_file=keep_file)
        except HaulError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self.notify("entry deleted" + (", file kept" if keep_file else " with its file"))
        self.action_reload()
