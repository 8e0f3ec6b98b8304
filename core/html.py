"""What a page says: its item links, its next page, and an item's title, cover and media link.

Pure functions over a parsed page; fetching is someone else's job. Bad markup never raises
(a browser would show the page, so we read what it would), only a CSS selector that cannot
be compiled does, as a `SelectorError` naming it. Every URL returned is absolute, without
fragment, and never a `javascript:`, `mailto:`, `data:` or other link that cannot be fetched.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import urldefrag, urljoin, urlsplit

from pydantic import BaseModel, ConfigDict

# lexbor is selectolax's only engine since 1.0 (Modest was dropped): it parses by the HTML
# standard, so a broken page becomes the same tree a browser would build.
from selectolax.lexbor import LexborHTMLParser, LexborNode, SelectolaxError

from .errors import HaulError

__all__ = [
    "ItemInfo",
    "ItemRules",
    "Page",
    "SelectorError",
    "check_rule",
    "check_selector",
    "extract_item",
    "is_html",
    "listing_links",
    "next_page",
    "parse",
    "split_rule",
]

# Links that name no place to fetch; everything else is left to the URL guard to judge.
_UNFETCHABLE = frozenset(
    {"javascript", "mailto", "data", "tel", "sms", "about", "blob", "vbscript"}
)
_LINK_TAGS = frozenset({"a", "area", "link"})
_REL_NEXT = "a[rel~=next i][href], link[rel~=next i][href], area[rel~=next i][href]"
_MEDIA_TYPES = {
    "mp3": "audio/mpeg", "m4a": "audio/mp4", "ogg": "audio/ogg", "opus": "audio/opus",
    "flac": "audio/flac", "wav": "audio/wav", "aac": "audio/aac",
    "mp4": "video/mp4", "m4v": "video/x-m4v", "webm": "video/webm", "mkv": "video/x-matroska",
    "mov": "video/quicktime", "avi": "video/x-msvideo",
    "jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif",
    "webp": "image/webp",
    "pdf": "application/pdf", "zip": "application/zip", "epub": "application/epub+zip",
    "cbz": "application/vnd.comicbook+zip", "7z": "application/x-7z-compressed",
    "rar": "application/vnd.rar", "tar": "application/x-tar", "gz": "application/gzip",
}  # fmt: skip
_OG_MEDIA = tuple(
    f"og:{kind}{variant}" for kind in ("audio", "video") for variant in ("", ":url", ":secure_url")
)
_COVER_META = ("og:image", "og:image:url", "og:image:secure_url", "twitter:image")
# JSON-LD describes covers too (WordPress pages carry a `#primaryimage` ImageObject): those
# are not the item's media, so image objects and image-valued keys are not searched.
_JSON_LD_IMAGE_KEYS = frozenset({"image", "thumbnail", "logo", "primaryImageOfPage"})
_ATTRIBUTE_SPEC = re.compile(r"@([A-Za-z_:][-A-Za-z0-9_:.]*)\s*$")
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_SNIFFED_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream"})
_HTML_STARTS = (b"<!doctype html", b"<html")
_BOMS = ((b"\xef\xbb\xbf", ""), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))
_TAG_ENDS = frozenset({b"", b" ", b">", b"\t", b"\n", b"\r", b"\f"})


class SelectorError(HaulError):
    """A CSS selector (from a recipe or `--items`) that the parser cannot compile."""


class ItemRules(BaseModel):
    """A recipe's selectors for an item page; `sel@attr` takes that attribute of the match."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str | None = None
    description: str | None = None
    cover: str | None = None
    media: str | None = None


@dataclass(frozen=True)
class ItemInfo:
    """What an item page says about itself; any field may be missing."""

    title: str | None = None
    description: str | None = None
    cover_url: str | None = None
    media_url: str | None = None
    # The media's type as the page states it (`og:audio:type`, `<source type>`, JSON-LD
    # encodingFormat), else as its file extension suggests; a hint, not a promise.
    media_type_hint: str | None = None


@dataclass(frozen=True, eq=False)
class Page:
    """A parsed page and the URL its relative links resolve against."""

    url: str
    base_url: str
    document: LexborHTMLParser


def parse(html: str | bytes, url: str) -> Page:
    """Parse a page as a browser would; bytes follow their BOM or `<meta charset>`, else UTF-8."""
    if isinstance(html, bytes):
        document = LexborHTMLParser(html, encoding=True)
    else:
        document = LexborHTMLParser(html)
    base = document.css_first("base[href]")
    resolved = _absolute(url, base.attributes.get("href")) if base is not None else None
    return Page(url, resolved or url, document)


def check_selector(selector: str) -> None:
    """Raise `SelectorError` unless the selector compiles (tried on an empty document)."""
    _select(LexborHTMLParser(""), selector)


def split_rule(rule: str) -> tuple[str, str | None]:
    """`img.cover@src` → (`img.cover`, `src`); a rule without `@name` names no attribute."""
    spec = _ATTRIBUTE_SPEC.search(rule)
    if spec is None:
        return rule.strip(), None
    return rule[: spec.start()].strip(), spec.group(1).lower()


def check_rule(rule: str) -> None:
    """Raise `SelectorError` unless the selector part of an item rule compiles."""
    check_selector(split_rule(rule)[0])


def listing_links(page: Page, items_selector: str | None) -> list[str]:
    """Item links in document order, each once: an `a`'s href, else the first link inside.

    Without a selector there are no links: guessing which links on a page are items finds
    menus and footers too, so the caller asks the person for a selector instead.
    """
    if items_selector is None:
        return []
    found: dict[str, None] = {}
    for node in _select(page.document, items_selector):
        url = _absolute(page.base_url, _href(node))
        if url is not None:
            found.setdefault(url)
    return list(found)


def next_page(page: Page, next_selector: str | None) -> str | None:
    """The selector's first link, else the page's `rel=next` link; never the page itself."""
    candidates = _select(page.document, next_selector) if next_selector is not None else []
    here = _defragged(page.url)
    for node in [*candidates, *page.document.css(_REL_NEXT)]:
        url = _absolute(page.base_url, _href(node))
        if url is not None and url != here:
            return url
    return None


def extract_item(page: Page, rules: ItemRules | None) -> ItemInfo:
    """A recipe's rules first, then what pages commonly say (Open Graph, `<title>`, …)."""
    rules = rules or ItemRules()
    title = (
        _rule_text(page, rules.title, "title") or _meta(page, "og:title") or _title_element(page)
    )
    description = (
        _rule_text(page, rules.description, "description")
        or _meta(page, "og:description")
        or _meta(page, "description")
    )
    cover = _rule_url(page, rules.cover, "cover") or _cover_from_meta(page)
    media_url, stated_type = _rule_url_and_type(page, rules.media, "media") or next(
        _urls(page, _media_candidates(page)), (None, None)
    )
    hint = stated_type if stated_type and "/" in stated_type else _type_from_extension(media_url)
    return ItemInfo(title, description, cover, media_url, hint)


def is_html(content_type: str | None, first_bytes: bytes) -> bool:
    """True for an HTML content type, or for untyped bytes that open like an HTML page."""
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    if mime in _HTML_TYPES:
        return True
    if mime not in _SNIFFED_TYPES:
        return False
    head = first_bytes
    for bom, codec in _BOMS:
        if head.startswith(bom):
            head = head[len(bom) :]
            if codec:
                head = head.decode(codec, "replace").encode("ascii", "replace")
            break
    head = head.lstrip(b" \t\n\r\f").lower()
    return any(
        head.startswith(start) and head[len(start) : len(start) + 1] in _TAG_ENDS
        for start in _HTML_STARTS
    )


def _select(scope: LexborHTMLParser | LexborNode, selector: str) -> list[LexborNode]:
    try:
        return scope.css(selector)
    except (SelectolaxError, UnicodeError) as exc:
        raise SelectorError(f"{selector!r} is not a CSS selector haul can use") from exc


def _select_rule(page: Page, rule: str, field: str) -> tuple[list[LexborNode], str | None]:
    selector, attribute = split_rule(rule)
    try:
        return _select(page.document, selector), attribute
    except SelectorError as exc:
        raise SelectorError(f"the item {field} rule {rule!r}: {exc}") from exc


def _rule_text(page: Page, rule: str | None, field: str) -> str | None:
    if rule is None:
        return None
    nodes, attribute = _select_rule(page, rule, field)
    for node in nodes:
        raw = node.attributes.get(attribute) if attribute else node.text()
        text = _collapsed(raw)
        if text:
            return text
    return None


def _rule_url_and_type(page: Page, rule: str | None, field: str) -> tuple[str, str | None] | None:
    if rule is None:
        return None
    nodes, attribute = _select_rule(page, rule, field)
    names = (attribute,) if attribute else ("src", "href", "content")
    for node in nodes:
        attributes = node.attributes
        values = ((attributes.get(name), attributes.get("type")) for name in names)
        found = next(_urls(page, values), None)
        if found is not None:
            return found
    return None


def _rule_url(page: Page, rule: str | None, field: str) -> str | None:
    found = _rule_url_and_type(page, rule, field)
    return found[0] if found else None


def _urls(
    page: Page, candidates: Iterable[tuple[str | None, str | None]]
) -> Iterator[tuple[str, str | None]]:
    """The usable ones among (href, stated type) candidates, made absolute, in order."""
    for href, stated_type in candidates:
        url = _absolute(page.base_url, href)
        if url is not None:
            yield url, stated_type


def _cover_from_meta(page: Page) -> str | None:
    found = next(_urls(page, ((_meta(page, name), None) for name in _COVER_META)), None)
    return found[0] if found else None


def _media_candidates(page: Page) -> Iterator[tuple[str | None, str | None]]:
    """Where pages keep their media link, in the order we trust them."""
    document = page.document
    for kind in ("audio", "video"):
        stated = _meta(page, f"og:{kind}:type")
        for name in _OG_MEDIA:
            if name.startswith(f"og:{kind}"):
                yield _meta(page, name), stated
    for player in document.css("audio, video"):
        yield player.attributes.get("src"), player.attributes.get("type")
        for source in player.css("source[src]"):
            yield source.attributes.get("src"), source.attributes.get("type")
    for script in document.css('script[type="application/ld+json" i]'):
        yield from _json_ld_content_urls(script.text())
    for link in document.css("a[download][href]"):
        yield link.attributes.get("href"), link.attributes.get("type")
    for link in document.css("a[href]"):
        href = link.attributes.get("href")
        if _type_from_extension(_absolute(page.base_url, href)):
            yield href, link.attributes.get("type")


def _json_ld_content_urls(text: str) -> Iterator[tuple[str | None, str | None]]:
    """`contentUrl`s of a JSON-LD block (an object, a list or an @graph), depth first."""
    try:
        data: object = json.loads(text, strict=False)
    except (ValueError, RecursionError):
        return
    stack: list[object] = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, list):
            stack.extend(reversed(value))
            continue
        if not isinstance(value, dict):
            continue
        types = value.get("@type")
        if types == "ImageObject" or (isinstance(types, list) and "ImageObject" in types):
            continue
        content = value.get("contentUrl")
        fmt = value.get("encodingFormat")
        stated = fmt if isinstance(fmt, str) else None
        for url in content if isinstance(content, list) else [content]:
            if isinstance(url, str):
                yield url, stated
        children = [v for k, v in value.items() if k not in _JSON_LD_IMAGE_KEYS]
        stack.extend(reversed(children))


def _meta(page: Page, name: str) -> str | None:
    """A `<meta property=…>` or `<meta name=…>` content; Open Graph uses one, Twitter the other."""
    quoted = json.dumps(name)
    found = page.document.css_first(
        f"meta[property={quoted} i][content], meta[name={quoted} i][content]"
    )
    return _collapsed(found.attributes.get("content")) if found is not None else None


def _title_element(page: Page) -> str | None:
    found = page.document.css_first("title")
    return _collapsed(found.text()) if found is not None else None


def _href(node: LexborNode) -> str | None:
    if node.tag in _LINK_TAGS:
        return node.attributes.get("href")
    inner = node.css_first("a[href]")
    return inner.attributes.get("href") if inner is not None else None


def _absolute(base: str, href: str | None) -> str | None:
    """`href` resolved against `base`, without fragment; None when there is nothing to fetch."""
    href = (href or "").strip()
    if not href or href.startswith("#"):
        return None
    try:
        url = _defragged(urljoin(base, href))
        scheme = urlsplit(url).scheme.lower()
    except ValueError:  # a malformed authority such as "http://[::1"
        return None
    return url if url and scheme not in _UNFETCHABLE else None


def _defragged(url: str) -> str:
    return urldefrag(url).url


def _type_from_extension(url: str | None) -> str | None:
    if url is None:
        return None
    try:
        last = urlsplit(url).path.rsplit("/", 1)[-1]
    except ValueError:
        return None
    stem, dot, extension = last.rpartition(".")
    return _MEDIA_TYPES.get(extension.lower()) if dot and stem else None


def _collapsed(text: str | None) -> str | None:
    collapsed = " ".join(text.split()) if text else ""
    return collapsed or None
