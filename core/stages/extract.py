"""The extract stage: an item page gives a title, description, cover and media link."""

from __future__ import annotations

from ..errors import InvalidSource, PermanentError
from ..html import SelectorError, extract_item, is_html, parse
from ..models import Item, Kind, Stage
from ..sources import check_url
from .base import Advance, Outcome, StageContext
from .pages import fetch_page

NO_MEDIA = (
    "no media link found on the page (no og:audio/og:video, <audio>/<video>, JSON-LD "
    "contentUrl, download link or link to a media file); write a site recipe with an item "
    "`media` selector (haul recipes), or queue the file URL itself"
)


async def extract(ctx: StageContext, item: Item) -> Outcome:
    """Read the page; the media link it names is what the download stage fetches."""
    fetched = await fetch_page(ctx, item.source)
    if not is_html(fetched.content_type, fetched.body[:512]):
        # Not a page after all: the source is the file itself.
        return Advance(Stage.DOWNLOAD, {"kind": Kind.FILE.value}, "not a web page: a file")
    recipe = ctx.recipes.match(item.source)
    try:
        info = extract_item(parse(fetched.body, fetched.url), recipe.item if recipe else None)
    except SelectorError as exc:
        raise PermanentError(f"the recipe {recipe.name if recipe else ''!r} failed: {exc}") from exc
    if not info.media_url:
        raise PermanentError(NO_MEDIA)
    try:
        check_url(info.media_url, ctx.settings.network_policy)
    except InvalidSource as exc:
        raise PermanentError(f"the page's media link was refused: {exc}") from exc
    return Advance(
        Stage.DOWNLOAD,
        {
            "media_url": info.media_url,
            "title": info.title,
            "description": info.description,
            "cover_url": info.cover_url,
        },
        message=f"found {info.title or 'an untitled item'}: media {info.media_url}",
    )
