"""`haul recipes test URL`: what haul would find on one page, without queuing anything."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from .errors import InvalidSource
from .html import extract_item, listing_links, next_page, parse
from .http import make_client
from .recipes import load_recipes
from .redact import redact_url
from .settings import Settings
from .sources import check_url
from .stages.base import StageContext
from .stages.pages import fetch_page
from .store import Store


async def probe(settings: Settings, store: Store, url: str) -> dict[str, Any]:
    """Fetch one page under the same guard and report links, next page and item fields."""
    source = check_url(url.strip(), settings.network_policy)
    book = load_recipes(settings.recipes_folder)
    recipe = book.match(source.key)
    notes: list[str] = []
    async with make_client(settings) as client:
        ctx = StageContext(
            settings, store, client, lambda *_: None,
            lambda _item, _level, message: notes.append(message), lambda _items: None, book,
        )  # fmt: skip
        fetched = await fetch_page(ctx, source.given)
    page = parse(fetched.body, fetched.url)
    listing = recipe.listing if recipe else None
    links = listing_links(page, listing.items if listing else "a[href]")
    checked = []
    for link in links:
        try:
            check_url(link, settings.network_policy)
            checked.append({"url": redact_url(link), "refused": None})
        except InvalidSource as exc:
            checked.append({"url": redact_url(link), "refused": str(exc)})
    info = extract_item(page, recipe.item if recipe else None)
    return {
        "url": redact_url(fetched.url),
        "recipe": recipe.name if recipe else None,
        "recipe_file": str(recipe.source) if recipe else None,
        "rules": "recipe" if recipe else "generic",
        "links": checked,
        "next_page": next_page(page, listing.next if listing else None),
        "item": asdict(info),
        "recipe_problems": [{"file": str(p.path), "problem": p.message} for p in book.problems],
    }
