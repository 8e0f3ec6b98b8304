"""The command palette offers every action the keys do, by the words in the footer."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider


class ActionCommands(Provider):
    """One command per described binding of the app and the screen underneath."""

    def _commands(self) -> list[tuple[str, str, str]]:
        app = self.app
        seen: set[str] = set()
        commands = []
        screen = app.screen_stack[-2] if len(app.screen_stack) > 1 else app.screen
        for owner in (screen, app):
            for binding in getattr(owner, "BINDINGS", []):
                action = getattr(binding, "action", None)
                description = getattr(binding, "description", "")
                if not action or not description or description in seen:
                    continue
                seen.add(description)
                key = binding.key_display or binding.key.split(",")[0]
                commands.append((description, action, key))
        return commands

    async def discover(self) -> Hits:
        for description, action, key in self._commands():
            yield DiscoveryHit(description, partial(self.app.run_action, action),
                               help=f"key: {key}")  # fmt: skip

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for description, action, key in self._commands():
            score = matcher.match(description)
            if score > 0:
                yield Hit(score, matcher.highlight(description),
                          partial(self.app.run_action, action), help=f"key: {key}")  # fmt: skip
