"""The help screen: every key that works where help was opened, read from the bindings."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widgets import Label, Static


def bindings_of(node: DOMNode) -> list[Binding]:
    """A node's BINDINGS with those it inherits, a subclass's key winning over its base's."""
    by_key: dict[str, Binding] = {}
    for cls in type(node).__mro__:
        for binding in Binding.make_bindings(cls.__dict__.get("BINDINGS", ())):
            by_key.setdefault(binding.key, binding)
    app = node.app
    if node is app and app.ENABLE_COMMAND_PALETTE:  # added by App.__init__, not in BINDINGS
        palette = Binding(app.COMMAND_PALETTE_BINDING, "command_palette", "Command palette",
                          key_display=app.COMMAND_PALETTE_DISPLAY, priority=True)  # fmt: skip
        by_key.setdefault(palette.key, palette)
    return list(by_key.values())


def group_title(node: DOMNode) -> str:
    """A screen or widget may name its group with HELP_TITLE; the app's keys work anywhere."""
    title = getattr(node, "HELP_TITLE", None)
    if isinstance(title, str):
        return title
    if node is node.app:
        return "Everywhere"
    return type(node).__name__.removesuffix("Screen")


def key_groups(screen: Screen[Any]) -> list[tuple[str, list[tuple[str, str]]]]:
    """(title, [(keys, description)]) for the screen, the app, then the focused widgets.

    A key goes where Textual would send it: priority bindings first, then the focused
    widget outwards to the screen and the app, so a key the screen binds hides the app's.
    Keys that share an action are shown on one line ("esc / q").
    """
    focused = screen.focused
    widgets = [
        node
        for node in (focused.ancestors_with_self if focused is not None else [])
        if node is not screen and node is not screen.app
    ]
    order: list[DOMNode] = [*widgets, screen, screen.app]
    owner: dict[str, tuple[DOMNode, Binding]] = {}
    for node in reversed(order):
        for binding in bindings_of(node):
            if binding.priority:
                owner.setdefault(binding.key, (node, binding))
    for node in order:
        for binding in bindings_of(node):
            owner.setdefault(binding.key, (node, binding))
    groups: list[tuple[str, list[tuple[str, str]]]] = []
    for node in [screen, screen.app, *widgets]:
        rows: dict[str, tuple[list[str], str]] = {}
        for key_owner, binding in owner.values():
            if key_owner is node and binding.description:
                keys, _ = rows.setdefault(binding.action, ([], binding.description))
                keys.append(screen.app.get_key_display(binding))
        if rows:
            groups.append((group_title(node), [(" / ".join(k), d) for k, d in rows.values()]))
    return groups


def render_groups(groups: list[tuple[str, list[tuple[str, str]]]]) -> Text:
    width = max((len(keys) for _, rows in groups for keys, _ in rows), default=0)
    text = Text()
    for index, (title, rows) in enumerate(groups):
        text.append(("\n\n" if index else "") + title, style="bold")
        for keys, description in rows:
            text.append(f"\n  {keys:>{width}}  ", style="bold")
            text.append(description)
    return text


class HelpScreen(ModalScreen[None]):
    """Generated from the bindings, so it cannot fall behind the keys."""

    CSS_PATH = "screens.tcss"
    BINDINGS = [Binding("escape,q,question_mark", "close", "Close", key_display="?")]

    def __init__(self, target: Screen[Any] | None = None) -> None:
        """`target` is the screen to describe; by default the one under this dialog."""
        super().__init__()
        self.target = target

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-dialog"):
            yield Static(id="help-keys")
            yield Label("esc / q / ? closes", classes="hint")

    def on_mount(self) -> None:
        target = self.target or self.app.screen_stack[-2]
        self.query_one("#help-keys", Static).update(render_groups(key_groups(target)))

    def action_close(self) -> None:
        self.dismiss()
