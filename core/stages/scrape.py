"""The scrape stage: a listing page (and the pages after it) becomes child items."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

from ..errors import InvalidSource, PermanentError
from ..html import listing_links, next_page, parse
from ..models import Item, Kind
from ..redact import redact_url
from ..sources import Source, check_url, normalise_url
from .base import Completed, Outcome, StageContext
from .pages import fetch_page


@dataclass
class ListingStats:
    """What a listing found, kept on the item (details) and shown to people."""

    pages: int = 0
    found: int = 0
    added: int = 0
    duplicates: int = 0
    refused: int = 0
    other_sites: int = 0


def listing_details(items: str | None, next_selector: str | None) -> str:
    """The details a listing item is queued with: the selectors given by the person."""
    return json.dumps({"items": items, "next": next_selector})


async def scrape(ctx: StageContext, item: Item) -> Outcome:
    """Follow the listing's pages up to the page limit, queueing every new item link."""
    transfer = await ctx.store.transfer(item.id)
    details: dict[str, Any] = json.loads(transfer.details or "{}")
    recipe = ctx.recipes.match(item.source)
    items_selector = details.get("items") or (
        recipe.listing.items if recipe and recipe.listing else None
    )
    next_selector = details.get("next") or (
        recipe.listing.next if recipe and recipe.listing else None
    )
    if not items_selector:
        raise PermanentError(
            "no item selector for this listing: add it with `haul add --listing URL --items CSS` "
            "or write a site recipe (haul recipes)"
        )
    stats = ListingStats()
    url: str | None = item.source
    visited: set[str] = set()
    site = urlsplit(normalise_url(item.source)).hostname
    while url is not None and stats.pages < ctx.settings.listing_page_limit:
        visited.add(normalise_url(url))
        fetched = await fetch_page(ctx, url)
        page = parse(fetched.body, fetched.url)
        stats.pages += 1
        links = listing_links(page, items_selector)
        stats.found += len(links)
        await _queue_children(ctx, item, _judge_links(ctx, item, links, site, stats), stats)
        following = next_page(page, next_selector)
        url = following if following and normalise_url(following) not in visited else None
    if url is not None:
        ctx.log(item.id, "warning", f"stopped at the page limit ({stats.pages} pages)")
    summary = (
        f"listing read: {stats.pages} page(s), {stats.found} links, {stats.added} new, "
        f"{stats.duplicates} already queued, {stats.refused + stats.other_sites} refused"
    )
    return Completed(summary, {"details": json.dumps({**details, "stats": asdict(stats)})})


def _judge_links(
    ctx: StageContext, item: Item, links: list[str], site: str | None, stats: ListingStats
) -> list[Source]:
    """Links get the same checks as typed URLs; other sites are skipped unless allowed."""
    sources: list[Source] = []
    hosts: dict[str, str | None] = {}
    for link in links:
        try:
            source = check_url(link, ctx.settings.network_policy, hosts)
        except InvalidSource as exc:
            stats.refused += 1
            ctx.log(item.id, "warning", f"refused link {redact_url(link)}: {exc}")
            continue
        if ctx.settings.same_site_only and urlsplit(source.key).hostname != site:
            stats.other_sites += 1
            ctx.log(item.id, "info", f"skipped a link to another site: {redact_url(link)}")
            continue
        sources.append(Source(source.given, source.key, Kind.PAGE))
    return sources


async def _queue_children(
    ctx: StageContext, item: Item, sources: list[Source], stats: ListingStats
) -> None:
    if not sources:
        return
    added = await ctx.store.add_sources(
        sources, priority=item.priority, parent_id=item.id, batch_id=item.batch_id
    )
    stats.added += len(added.added)
    stats.duplicates += len(added.duplicates)
    for dup in added.duplicates:
        ctx.log(item.id, "info", f"already queued as item #{dup.item_id}: {redact_url(dup.given)}")
    ctx.spawned(added.added)
