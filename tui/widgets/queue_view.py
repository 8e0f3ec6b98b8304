"""QueueView: the queue as a virtual list that stays fast at 100,000 rows.

DataTable and OptionList build every row up front and take seconds at this size (TUI.md), so
this widget uses Textual's Line API: it keeps rows in a plain list with an index of the
shown ones (sort, filter, folds) and draws only the lines on screen. The store is the
truth; the app feeds items in, marks rows dirty as progress arrives, and calls `flush()` a
few times a second, which repaints only the dirty rows that are visible.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from core.collector import collector_paused
from core.models import Item, State

from .queue_rows import (
    EMPTY_HINT,
    GUTTER,
    HEADER,
    NO_MATCH_HINT,
    STATE_WIDTH,
    QueueRow,
    arrange,
    fit,
    fit_columns,
    row_cells,
)

# -- the widget --------------------------------------------------------------------------


class QueueView(ScrollView, can_focus=True):
    """A virtual list of queue rows: cursor, multi-select, text/state filter, folding."""

    BINDINGS = [
        Binding("up", "cursor_up", "Up", show=False),
        Binding("down", "cursor_down", "Down", show=False),
        Binding("pageup", "cursor_page_up", "Page up", show=False),
        Binding("pagedown", "cursor_page_down", "Page down", show=False),
        Binding("home", "cursor_first", "First", show=False),
        Binding("end", "cursor_last", "Last", show=False),
        Binding("shift+up", "extend_up", "Extend selection up", show=False),
        Binding("shift+down", "extend_down", "Extend selection down", show=False),
        Binding("v", "toggle_select", "Select", show=False),
        Binding("f", "toggle_fold", "Fold", show=False),
        Binding("enter", "choose", "Details", show=False),
    ]

    COMPONENT_CLASSES = {
        "queue-view--header",
        "queue-view--cursor",
        "queue-view--selected",
        "queue-view--queued",
        "queue-view--running",
        "queue-view--retry",
        "queue-view--paused",
        "queue-view--done",
        "queue-view--failed",
        "queue-view--cancelled",
        "queue-view--skipped",
        "queue-view--bar",
        "queue-view--bar-empty",
        "queue-view--fold",
        "queue-view--dim",
        "queue-view--hint",
    }

    DEFAULT_CSS = """
    QueueView {
        height: 1fr;
        overflow-x: hidden;
        overflow-y: auto;
        background: $surface;
        color: $foreground;
        & > .queue-view--header { color: $text-muted; text-style: bold; }
        & > .queue-view--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus > .queue-view--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
        & > .queue-view--selected { background: $accent 30%; }
        & > .queue-view--queued { color: $text-muted; }
        & > .queue-view--running { color: $text-primary; }
        & > .queue-view--retry { color: $text-warning; }
        & > .queue-view--paused { color: $text-warning; }
        & > .queue-view--done { color: $text-success; }
        & > .queue-view--failed { color: $text-error; }
        & > .queue-view--cancelled { color: $text-muted; }
        & > .queue-view--skipped { color: $text-muted; }
        & > .queue-view--bar { color: $primary; background: $foreground 12%; }
        & > .queue-view--bar-empty { background: $foreground 12%; }
        & > .queue-view--fold { color: $text-accent; }
        & > .queue-view--dim { color: $text-muted; }
        & > .queue-view--hint { color: $text-muted; text-style: italic; }
    }
    """

    class _RowMessage(Message):
        def __init__(self, queue_view: QueueView, item_id: int) -> None:
            super().__init__()
            self.queue_view = queue_view
            self.item_id = item_id

        @property
        def control(self) -> QueueView:
            return self.queue_view

    class Highlighted(_RowMessage):
        """The cursor moved to another row; a newer one replaces a pending one."""

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, QueueView.Highlighted) and (
                message.queue_view is self.queue_view
            )

    class Chosen(_RowMessage):
        """Enter (or a double click) on a row: the app opens its details."""

    def __init__(
        self,
        *,
        show_header: bool = True,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.show_header = show_header
        self._rows: list[QueueRow] = []
        self._by_id: dict[int, QueueRow] = {}
        self._order: list[QueueRow] = []
        self._shown: list[QueueRow] = []
        self._folded: set[int] = set()
        self._selected: set[int] = set()
        self._dirty: set[int] = set()
        self._stale = False
        self._cursor = 0
        self._highlighted: int | None = None
        self._filter_text = ""
        self._filter_states: frozenset[State] | None = None
        self._palette: dict[str, Style] | None = None

    # -- feeding rows ----------------------------------------------------------------------

    def set_items(self, items: Iterable[Item]) -> None:
        """Replace every row (a fresh load from the store); keeps cursor, folds, selection."""
        with collector_paused():
            self._rows = [QueueRow.from_item(item) for item in items]
            self._by_id = {row.id: row for row in self._rows}
            self._folded &= self._by_id.keys()
            self._selected &= self._by_id.keys()
            self._dirty.clear()
            self._reindex()

    def upsert(self, item: Item) -> None:
        """Add or update one row; shows on the next `flush()`, like progress does."""
        row = self._by_id.get(item.id)
        if row is None:
            row = QueueRow.from_item(item)
            self._rows.append(row)
            self._by_id[row.id] = row
            self._stale = True
            return
        matched = self._matches(row)
        if row.apply(item) or matched != self._matches(row):
            self._stale = True
        self._dirty.add(item.id)

    def update_progress(
        self, item_id: int, bytes_done: int, bytes_total: int | None, rate: float
    ) -> None:
        """Record live progress; cheap enough to call per event, painted on `flush()`."""
        row = self._by_id.get(item_id)
        if row is None:
            return
        row.bytes_done, row.bytes_total, row.rate = bytes_done, bytes_total, rate
        self._dirty.add(item_id)

    def mark_dirty(self, item_id: int) -> None:
        """Repaint this row on the next flush (if it is on screen then)."""
        self._dirty.add(item_id)

    def flush(self) -> int:
        """Repaint the dirty rows now on screen, nothing else; returns how many lines.

        Rows off screen need nothing: they are drawn from their current data when they
        scroll in. New rows or rows that change place rebuild the index once here.
        """
        if self._stale:
            self._dirty.clear()
            self._reindex()
            return self.size.height
        dirty, self._dirty = self._dirty, set()
        if not dirty:
            return 0
        top, count = self._window()
        painted = 0
        for index in range(top, min(top + count, len(self._shown))):
            if self._shown[index].id in dirty:
                self.refresh_line(index + self._header_height)
                painted += 1
        return painted

    # -- filter and folds ------------------------------------------------------------------

    def set_filter(self, text: str, states: set[State] | None = None) -> None:
        """Show rows whose title or URL contains `text` (any case) and whose state is in
        `states`; clears the selection so bulk actions never touch rows out of sight."""
        self._filter_text = text.strip().casefold()
        self._filter_states = frozenset(states) if states else None
        self._selected.clear()
        self._reindex()

    @property
    def filtering(self) -> bool:
        return bool(self._filter_text) or self._filter_states is not None

    def toggle_fold(self) -> None:
        """Fold or unfold the listing under the cursor (or the cursor row's listing).

        Does nothing while a filter is on: the filter shows matching children flat, so a
        fold there would change nothing visible.
        """
        row = self.cursor_row
        if row is None or self.filtering:
            return
        if not row.descendants and row.parent_id in self._by_id:
            row = self._by_id[row.parent_id]
        if not row.descendants:
            return
        self._folded.symmetric_difference_update({row.id})
        self._reindex(keep_id=row.id)

    # -- reading the view ------------------------------------------------------------------

    @property
    def cursor_row(self) -> QueueRow | None:
        return self._shown[self._cursor] if self._shown else None

    @property
    def cursor_index(self) -> int:
        """The cursor's position among the shown rows."""
        return self._cursor

    @property
    def shown_count(self) -> int:
        return len(self._shown)

    def shown_ids(self) -> list[int]:
        """Ids in display order after filter and folds (for tests and bulk 'select all')."""
        return [row.id for row in self._shown]

    def row(self, item_id: int) -> QueueRow | None:
        return self._by_id.get(item_id)

    def selected_ids(self) -> list[int]:
        """The selection, or else the cursor row; what bulk actions act on."""
        if self._selected:
            return sorted(self._selected)
        row = self.cursor_row
        return [row.id] if row else []

    def clear_selection(self) -> None:
        self._selected.clear()
        self.refresh()

    def move_cursor(self, index: int) -> None:
        """Put the cursor on shown row `index` (clamped), scroll it into view, announce it."""
        if not self._shown:
            self._cursor = 0
            return
        index = max(0, min(index, len(self._shown) - 1))
        if index != self._cursor:
            self._refresh_index(self._cursor)
            self._cursor = index
            self._refresh_index(index)
        self._scroll_to_cursor()
        self._announce()

    # -- ordering --------------------------------------------------------------------------

    def _reindex(self, keep_id: int | None = None) -> None:
        """Rebuild order and shown rows, keep the cursor on its item, repaint everything."""
        if keep_id is None and self._shown:
            keep_id = self._shown[min(self._cursor, len(self._shown) - 1)].id
        self._stale = False
        self._order = arrange(self._rows, self._by_id)
        self._shown = self._visible()
        self._cursor = self._place(keep_id)
        self.virtual_size = Size(0, len(self._shown) + self._header_height)
        self.refresh()
        if self.is_mounted:
            self._scroll_to_cursor()
        self._announce()

    def _visible(self) -> list[QueueRow]:
        if self.filtering:
            matches = self._matches
            return [row for row in self._order if matches(row)]
        if not self._folded:
            return self._order
        shown: list[QueueRow] = []
        skip_below: int | None = None
        for row in self._order:
            if skip_below is not None and row.depth > skip_below:
                continue
            skip_below = row.depth if row.id in self._folded else None
            shown.append(row)
        return shown

    def _matches(self, row: QueueRow) -> bool:
        if self._filter_states is not None and row.state not in self._filter_states:
            return False
        return not self._filter_text or self._filter_text in (row._haystack or row.haystack())

    def _place(self, keep_id: int | None) -> int:
        """Where the kept item is now; its folded listing when hidden; else stay put.

        By id, not by row: `set_items` builds new rows for the same items.
        """
        keep = self._by_id.get(keep_id) if keep_id is not None else None
        while keep is not None:
            try:
                return self._shown.index(keep)
            except ValueError:
                keep = self._by_id.get(keep.parent_id) if keep.parent_id is not None else None
        return max(0, min(self._cursor, len(self._shown) - 1))

    # -- cursor and selection --------------------------------------------------------------

    @property
    def _header_height(self) -> int:
        return 1 if self.show_header and self._shown else 0

    def _window(self) -> tuple[int, int]:
        """First shown row on screen and how many rows fit."""
        return round(self.scroll_offset.y), max(1, self.size.height - self._header_height)

    def _scroll_to_cursor(self) -> None:
        top, count = self._window()
        if self._cursor < top:
            self.scroll_to(y=self._cursor, animate=False)
        elif self._cursor >= top + count:
            self.scroll_to(y=self._cursor - count + 1, animate=False)

    def _announce(self) -> None:
        row = self.cursor_row
        item_id = row.id if row else None
        if item_id != self._highlighted:
            self._highlighted = item_id
            if row is not None:
                self.post_message(self.Highlighted(self, row.id))

    def _refresh_index(self, index: int) -> None:
        top, count = self._window()
        if top <= index < top + count:
            self.refresh_line(index + self._header_height)

    def _select(self, index: int, on: bool | None = None) -> None:
        row = self._shown[index]
        if on is None:
            on = row.id not in self._selected
        if on:
            self._selected.add(row.id)
        else:
            self._selected.discard(row.id)
        self._refresh_index(index)

    def action_cursor_up(self) -> None:
        self.move_cursor(self._cursor - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(self._cursor + 1)

    def action_cursor_page_up(self) -> None:
        self.move_cursor(self._cursor - self._window()[1])

    def action_cursor_page_down(self) -> None:
        self.move_cursor(self._cursor + self._window()[1])

    def action_cursor_first(self) -> None:
        self.move_cursor(0)

    def action_cursor_last(self) -> None:
        self.move_cursor(len(self._shown) - 1)

    def action_toggle_select(self) -> None:
        if self._shown:
            self._select(self._cursor)

    def action_extend_up(self) -> None:
        self._extend(-1)

    def action_extend_down(self) -> None:
        self._extend(+1)

    def _extend(self, step: int) -> None:
        """Shift+arrow: select the row you leave and the row you land on."""
        if not self._shown:
            return
        self._select(self._cursor, on=True)
        self.move_cursor(self._cursor + step)
        self._select(self._cursor, on=True)

    def action_toggle_fold(self) -> None:
        self.toggle_fold()

    def action_choose(self) -> None:
        row = self.cursor_row
        if row is not None:
            self.post_message(self.Chosen(self, row.id))

    def on_click(self, event: events.Click) -> None:
        """A click puts the cursor on the row; a double click also chooses it."""
        offset = event.get_content_offset(self)
        if offset is None or offset.y < self._header_height or not self._shown:
            return
        index = round(self.scroll_offset.y) + offset.y - self._header_height
        if index < len(self._shown):
            self.move_cursor(index)
            if event.chain >= 2:
                self.action_choose()

    # -- drawing ---------------------------------------------------------------------------

    def render_lines(self, crop: Region) -> list[Strip]:
        """Resolve the styles once per paint: `rich_style` walks the CSS on every call and
        was most of the time of a row."""
        self._palette = self._make_palette()
        try:
            return super().render_lines(crop)
        finally:
            self._palette = None

    def render_line(self, y: int) -> Strip:
        """One screen line: the header, a row, or the empty-state hint."""
        width, palette = self.size.width, self._palette or self._make_palette()
        if not self._shown:
            return self._render_hint(y, width, palette)
        if y < self._header_height:
            return self._render_header(width, palette)
        index = round(self.scroll_offset.y) + y - self._header_height
        if index >= len(self._shown):
            return Strip.blank(width, palette["base"])
        return self._render_row(index, width, palette)

    def _make_palette(self) -> dict[str, Style]:
        """Every style a row needs, by component name without the prefix."""
        palette = {"base": self.rich_style}
        for name in self.COMPONENT_CLASSES:
            palette[name.removeprefix("queue-view--")] = self.get_component_rich_style(name)
        for name in ("cursor", "selected"):
            # The component's own settings with its background blended as the CSS means
            # it: a partial style alone would paint `$accent 30%` at full strength.
            partial = self.get_component_rich_style(f"queue-view--{name}", partial=True)
            palette[name] = partial + Style(bgcolor=palette[name].bgcolor)
        return palette

    def _render_hint(self, y: int, width: int, palette: dict[str, Style]) -> Strip:
        if y != self.size.height // 2:
            return Strip.blank(width, palette["base"])
        hint = NO_MATCH_HINT if self._order else EMPTY_HINT
        text = set_cell_size(hint, min(width, cell_len(hint)))
        left = (width - cell_len(text)) // 2
        return Strip([Segment(fit(" " * left + text, width), palette["hint"])], width)

    def _render_header(self, width: int, palette: dict[str, Style]) -> Strip:
        cols = fit_columns(width)
        texts = [" " * GUTTER + fit(HEADER[0], STATE_WIDTH), fit(HEADER[1], cols.title)]
        for label, size in zip(HEADER[2:], cols.others(), strict=True):
            if size:
                texts.append(fit(label, size, right=label not in ("Stage", "Progress")))
        return Strip([Segment(fit(" ".join(texts), width), palette["header"])], width)

    def _render_row(self, index: int, width: int, palette: dict[str, Style]) -> Strip:
        """The row's cells, with the cursor (or else selection) laid over their colours."""
        row = self._shown[index]
        is_cursor = index == self._cursor
        selected = row.id in self._selected
        fold = self._fold_marker(row)
        cells = row_cells(row, fit_columns(width), palette, is_cursor, selected, fold)
        overlay = palette["cursor"] if is_cursor else palette["selected"] if selected else None
        if overlay is not None:
            cells = [(text, style + overlay) for text, style in cells]
        strip = Strip([Segment(text, style) for text, style in cells])
        return strip.crop_extend(
            0, width, palette["base"] + overlay if overlay else palette["base"]
        )

    def _fold_marker(self, row: QueueRow) -> str:
        if not row.descendants:
            return ""
        if row.id in self._folded and not self.filtering:
            return f"▸ {row.descendants} items  "
        return "▾ "
