"""Queue rows as text: the render model, column widths and the cells of one row.

Pure functions and plain data, no widget state; QueueView draws what these return.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from dataclasses import dataclass, field
from operator import attrgetter
from urllib.parse import urlsplit

from rich.cells import cell_len, set_cell_size
from rich.style import Style

from core.models import Item, Kind, Stage, State
from core.redact import redact_url
from tui.printer import human_bytes

EMPTY_HINT = "Nothing queued — press a to add URLs"
NO_MATCH_HINT = "Nothing matches the filter"

STATE_LOOK: dict[State, tuple[str, str]] = {
    State.QUEUED: ("·", "queued"),
    State.RUNNING: ("⬇", "running"),
    State.RETRY_WAIT: ("↻", "retry"),
    State.PAUSED: ("⏸", "paused"),
    State.DONE: ("✓", "done"),
    State.FAILED: ("✗", "failed"),
    State.CANCELLED: ("⊘", "cancelled"),
    State.SKIPPED: ("=", "skipped"),
}
"""Icon and word per state; the word also names the component class (queue-view--retry)."""

_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")
_EIGHTHS = " ▏▎▍▌▋▊▉"


@dataclass(slots=True, eq=False)
class QueueRow:
    """One line's render model: the item as last seen plus live progress the store lags.

    It wraps the item rather than copying its fields, so building 100,000 rows stays
    cheap; the keys the order sorts on are copied into slots for the C-speed sort.
    Identity equality (eq=False) keeps `list.index` fast and unambiguous.
    """

    item: Item
    id: int
    batch_id: int
    parent_id: int | None
    bytes_done: int
    bytes_total: int | None
    rate: float = 0.0
    depth: int = 0
    descendants: int = 0
    _label: str | None = field(default=None, repr=False)
    _haystack: str | None = field(default=None, repr=False)

    @classmethod
    def from_item(cls, item: Item) -> QueueRow:
        return cls(item, item.id, item.batch_id, item.parent_id, item.bytes_done, item.bytes_total)

    def apply(self, item: Item) -> bool:
        """Take the item's new fields; True when the row's place in the order changed.

        A running download keeps the larger byte count: live progress runs ahead of the
        store's checkpoints, and a bar that jumps back looks broken.
        """
        old = self.item
        moved = (item.batch_id, item.parent_id) != (old.batch_id, old.parent_id)
        if (item.title, item.source) != (old.title, old.source):
            self._label = self._haystack = None
        keep_bytes = item.state is State.RUNNING and old.state is State.RUNNING
        if not keep_bytes or item.bytes_done > self.bytes_done:
            self.bytes_done, self.bytes_total = item.bytes_done, item.bytes_total
        if item.state is not State.RUNNING:
            self.rate = 0.0
        self.item, self.batch_id, self.parent_id = item, item.batch_id, item.parent_id
        return moved

    @property
    def state(self) -> State:
        return self.item.state

    @property
    def stage(self) -> Stage:
        return self.item.stage

    @property
    def kind(self) -> Kind:
        return self.item.kind

    @property
    def attempts(self) -> int:
        return self.item.attempts

    @property
    def label(self) -> str:
        """Title, else the URL in short; made on first draw, not for all 100,000 rows."""
        if self._label is None:
            text = self.item.title or short_url(self.item.source)
            self._label = _CONTROL_CHARS.sub(" ", text)
        return self._label

    def fit_label(self, width: int) -> str:
        """A title is cut at the end; a URL in the middle, since its tail names the file."""
        return fit(self.label, width, middle=self.item.title is None)

    def haystack(self) -> str:
        """What the text filter searches: what is on screen, so no hidden secret matches."""
        if self._haystack is None:
            self._haystack = f"{self.item.title or ''}\n{_shown_url(self.item.source)}".casefold()
        return self._haystack

    @property
    def fraction(self) -> float:
        if self.state is State.DONE:
            return 1.0
        if not self.bytes_total:
            return 0.0
        return min(1.0, max(0.0, self.bytes_done / self.bytes_total))


# -- text helpers ------------------------------------------------------------------------


def short_url(url: str) -> str:
    """Host and path: no scheme, no userinfo, and a query only hinted at ("?…"), so the
    file name stays in sight in a narrow column and no secret reaches the screen."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact_url(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return redact_url(url)
    host = parts.netloc.rpartition("@")[2]
    return f"{host}{parts.path}{'?…' if parts.query else ''}"


def _shown_url(url: str) -> str:
    """`redact_url`, skipped for the common URL with neither userinfo nor query to mask."""
    return redact_url(url) if "@" in url or "?" in url else url


def human_eta(seconds: float) -> str:
    """At most 6 cells: 45s, 12m05s, 3h07m, >99h."""
    whole = int(seconds + 0.5)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    if whole < 100 * 3600:
        return f"{whole // 3600}h{whole % 3600 // 60:02d}m"
    return ">99h"


def fit(text: str, width: int, right: bool = False, middle: bool = False) -> str:
    """Exactly `width` cells: padded, or cut with … at the end or in the middle (wide
    characters count as two cells)."""
    if width <= 0:
        return ""
    length = cell_len(text)
    if length > width:
        if middle and width >= 8:
            head = (width - 1) // 3
            return set_cell_size(text, head) + "…" + _tail(text, width - 1 - head)
        return set_cell_size(text, width - 1) + "…"
    pad = " " * (width - length)
    return pad + text if right else text + pad


def _tail(text: str, width: int) -> str:
    """The last `width` cells of text, padded on the left if a wide character straddles."""
    start = max(0, len(text) - width)
    while cell_len(text[start:]) > width:
        start += 1
    return fit(text[start:], width, right=True)


def bar_cells(fraction: float, width: int) -> tuple[str, str]:
    """Filled and empty parts of a block bar, with eighth blocks for a smooth edge."""
    eighths = round(fraction * width * 8)
    full, part = divmod(eighths, 8)
    filled = "█" * full + (_EIGHTHS[part] if part and full < width else "")
    return filled, " " * (width - len(filled))


# -- columns -----------------------------------------------------------------------------

GUTTER = 2
STATE_WIDTH = 11
MIN_TITLE = 16


@dataclass(frozen=True, slots=True)
class Columns:
    """Cell widths for one terminal width; 0 means the column is dropped."""

    title: int
    stage: int = 8
    bar: int = 10
    size: int = 8
    speed: int = 10
    eta: int = 6
    attempts: int = 3

    def others(self) -> tuple[int, ...]:
        return (self.stage, self.bar, self.size, self.speed, self.eta, self.attempts)


_DROP_ORDER = ("attempts", "eta", "stage", "speed", "size", "bar")


@functools.lru_cache(maxsize=8)
def fit_columns(width: int) -> Columns:
    """Give the title what is left; drop the least useful columns when it gets too narrow."""
    bar = max(6, min(20, (width - 72) // 2))
    widths = {"stage": 8, "bar": bar, "size": 8, "speed": 10, "eta": 6, "attempts": 3}

    def title_width() -> int:
        used = sum(w + 1 for w in widths.values() if w)
        return width - GUTTER - STATE_WIDTH - 1 - used

    for name in _DROP_ORDER:
        if title_width() >= MIN_TITLE:
            break
        widths[name] = 0
    return Columns(title=max(0, title_width()), **widths)


HEADER = ("State", "Title", "Stage", "Progress", "Size", "Speed", "ETA", "Try")


# -- one row as styled cells (pure: no widget state) ---------------------------------------


def row_cells(
    row: QueueRow,
    cols: Columns,
    palette: dict[str, Style],
    is_cursor: bool = False,
    selected: bool = False,
    fold: str = "",
) -> list[tuple[str, Style]]:
    """The row as (text, style) pieces, each already cut to its column.

    The gutter marks cursor (›) and selection (•) in characters, so both still show under
    NO_COLOR, where the highlight colours are stripped.
    """
    base, dim = palette["base"], palette["dim"]
    icon, word = STATE_LOOK[row.state]
    gutter = ("›" if is_cursor else " ") + ("•" if selected else " ")
    cells = [(gutter, base), (fit(f"{icon} {word}", STATE_WIDTH), palette[word])]
    indent = " " + "  " * row.depth + fold
    lead = fit(indent, min(cols.title + 1, cell_len(indent)))
    cells += [(lead, palette["fold"]), (row.fit_label(cols.title + 1 - len(lead)), base)]
    if cols.stage:
        cells.append((" " + fit(row.stage.value, cols.stage), dim))
    if cols.bar:
        filled, empty = bar_cells(row.fraction, cols.bar)
        cells += [(" ", base), (filled, palette["bar"]), (empty, palette["bar-empty"])]
    for size, text in (
        (cols.size, size_text(row)),
        (cols.speed, speed_text(row)),
        (cols.eta, eta_text(row)),
        (cols.attempts, str(row.attempts) if row.attempts else ""),
    ):
        if size:
            cells.append((" " + fit(text, size, right=True), dim))
    return cells


def size_text(row: QueueRow) -> str:
    """The total when known, else what has arrived so far."""
    if row.bytes_total:
        return human_bytes(row.bytes_total)
    return human_bytes(row.bytes_done) if row.bytes_done else ""


def speed_text(row: QueueRow) -> str:
    if row.state is not State.RUNNING or row.rate <= 0:
        return ""
    return human_bytes(row.rate) + "/s"


def eta_text(row: QueueRow) -> str:
    if row.state is not State.RUNNING or row.rate <= 0 or not row.bytes_total:
        return ""
    return human_eta(max(0, row.bytes_total - row.bytes_done) / row.rate)


def arrange(rows: list[QueueRow], by_id: dict[int, QueueRow]) -> list[QueueRow]:
    """Newest batch first, by id within it; children right under their listing.

    Sets each row's depth (indent) and descendants (the count a fold hides). Two stable
    C-keyed sorts instead of a tuple key: this runs on every load of 100,000 rows.
    """
    children: defaultdict[int, list[QueueRow]] = defaultdict(list)
    roots: list[QueueRow] = []
    for row in rows:
        parent = row.parent_id
        if parent is None or parent not in by_id or parent == row.id:
            roots.append(row)
        else:
            children[parent].append(row)
    roots.sort(key=attrgetter("id"))
    roots.sort(key=attrgetter("batch_id"), reverse=True)
    order: list[QueueRow] = []
    for root in roots:
        if root.id in children:
            _place_subtree(root, children, order)
        else:
            root.depth = root.descendants = 0
            order.append(root)
    if len(order) < len(rows):  # a parent cycle (never made by the store): show them flat
        placed = {id(row) for row in order}
        order += [row for row in rows if id(row) not in placed]
    return order


def _place_subtree(
    top: QueueRow, children: dict[int, list[QueueRow]], order: list[QueueRow]
) -> None:
    """Depth-first without recursion, so a long chain of listing pages cannot overflow."""
    stack: list[tuple[QueueRow, int]] = [(top, 0)]
    opened: list[tuple[QueueRow, int]] = []
    while stack:
        row, depth = stack.pop()
        row.depth = depth
        while opened and opened[-1][0].depth >= depth:
            done, start = opened.pop()
            done.descendants = len(order) - start - 1
        opened.append((row, len(order)))
        order.append(row)
        kids = sorted(children.get(row.id, ()), key=attrgetter("id"), reverse=True)
        stack.extend((kid, depth + 1) for kid in kids)
    for done, start in opened:
        done.descendants = len(order) - start - 1
