"""The queue screen: lanes and batch on top, every item below, a filter on demand."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Input

from core import State

from ..widgets.lanes_bar import LanesBar
from ..widgets.queue_view import QueueView


def parse_filter(text: str) -> tuple[str, set[State] | None]:
    """`failed night` → text "night", states {failed}; `is:running` works too."""
    words, states = [], set()
    for word in text.split():
        name = word.removeprefix("is:").lower()
        if name in State._value2member_map_:
            states.add(State(name))
        else:
            words.append(word)
    return " ".join(words), states or None


class QueueScreen(Screen[None]):
    """Rendering only: the app feeds rows from the store and events."""

    BINDINGS = [
        Binding("slash", "filter", "Filter"),
    ]

    def compose(self) -> ComposeResult:
        yield LanesBar(id="lanes")
        yield QueueView(id="queue")
        yield Input(placeholder="filter: words and/or states (failed, running…); esc clears",
                    id="filter")  # fmt: skip
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#filter", Input).display = False
        self.query_one(QueueView).focus()

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.query_one(QueueView).set_filter(*parse_filter(event.value))

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self.query_one(QueueView).focus()

    def key_escape(self) -> None:
        box = self.query_one("#filter", Input)
        if box.has_focus or box.value:
            box.value = ""
            box.display = False
            self.query_one(QueueView).set_filter("", None)
            self.query_one(QueueView).focus()
