"""A small catalogue built in the test: listing pages, item pages, covers and media files."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from core.demo import LoopbackServer
from core.demo.media import cover

# A real 400×400 cover, larger than a thumbnail, so filing it must shrink it.
PNG = cover("haul tests", 400)


@dataclass(frozen=True)
class Entry:
    slug: str
    title: str
    media: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.media).hexdigest()


def item_page(title: str, media_href: str | None, cover_href: str) -> str:
    link = f'<a class="download" download href="{media_href}">Download</a>' if media_href else ""
    return (
        f"<!doctype html><html><head><title>{title} | shop</title>"
        f'<meta property="og:title" content="{title}">'
        f'<meta property="og:description" content="About {title}">'
        f'<meta property="og:image" content="{cover_href}"></head>'
        f'<body><h1 class="title">{title}</h1>{link}</body></html>'
    )


def listing_page(links: list[str], next_href: str | None) -> str:
    items = "".join(f'<li><a class="item" href="{href}">item</a></li>' for href in links)
    after = f'<a rel="next" href="{next_href}">next</a>' if next_href else ""
    return f'<!doctype html><html><body><ul class="items">{items}</ul>{after}</body></html>'


def build_catalogue(server: LoopbackServer, count: int = 12, per_page: int = 5) -> list[Entry]:
    """`count` items over pages of `per_page` links; each later page repeats one link."""
    entries = []
    for n in range(count):
        slug = f"track-{n:02d}"
        media = hashlib.sha256(slug.encode()).digest() * (500 + 97 * n)
        entry = Entry(slug, f"Track {n:02d}", media)
        entries.append(entry)
        server.add(f"/media/{slug}.mp3", media, "audio/mpeg")
        server.add(f"/covers/{slug}.png", PNG, "image/png")
        server.add_html(f"/i/{slug}", item_page(entry.title, f"/media/{slug}.mp3",
                                                f"/covers/{slug}.png"))  # fmt: skip
    pages = [entries[i : i + per_page] for i in range(0, count, per_page)]
    for index, chunk in enumerate(pages, start=1):
        links = [f"/i/{e.slug}" for e in chunk]
        if index > 1:
            links.insert(0, f"/i/{pages[index - 2][-1].slug}")  # seen on the page before
        following = f"/c/music/{index + 1}" if index < len(pages) else None
        path = "/c/music" if index == 1 else f"/c/music/{index}"
        server.add_html(path, listing_page(links, following))
    return entries
