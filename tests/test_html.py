"""What a page says: links, next page, item fields and the media link, from small pages."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import HaulError
from core.html import (
    ItemInfo,
    ItemRules,
    SelectorError,
    check_rule,
    check_selector,
    extract_item,
    is_html,
    listing_links,
    next_page,
    parse,
    split_rule,
)

URL = "http://shop.test/c/music/index.html?page=1"


def media(html: str, rules: ItemRules | None = None) -> str | None:
    return extract_item(parse(html, URL), rules).media_url


# --- parsing and the base URL ---


def test_the_base_url_is_the_page_url_without_a_base_element() -> None:
    assert parse("<p>hi</p>", URL).base_url == URL


def test_a_base_href_is_resolved_against_the_page_url() -> None:
    page = parse('<head><base href="../files/"></head><a href="x.mp3">x</a>', URL)
    assert page.base_url == "http://shop.test/c/files/"
    assert listing_links(page, "a") == ["http://shop.test/c/files/x.mp3"]


def test_only_the_first_base_with_an_href_counts() -> None:
    page = parse('<base target="_top"><base href="http://cdn.test/"><base href="/no/">', URL)
    assert page.base_url == "http://cdn.test/"


def test_a_javascript_base_is_ignored() -> None:
    assert parse('<base href="javascript:alert(1)">', URL).base_url == URL


@pytest.mark.parametrize(
    "html",
    [
        "",
        b"",
        "<html><body><div><p>unclosed <a href='/a'>link <b>bold",
        "</div></div><<<>>><a href=>x</a></html></html><body>",
        b"\xff\xfe\x00\x80garbage\x00<a href='/a'>a</a>\xc3",
        "<!-- never closed <a href='/x'>",
        "<script>document.write('<a href=/y>')",
    ],
)
def test_malformed_pages_parse_without_raising(html: str | bytes) -> None:
    page = parse(html, URL)
    assert isinstance(extract_item(page, None), ItemInfo)
    assert isinstance(listing_links(page, "a"), list)
    next_page(page, "a.next")


def test_links_in_unclosed_markup_are_still_found() -> None:
    page = parse("<ul><li><a href='/a'>A<li><a href='/b'>B</ul", URL)
    assert listing_links(page, "li") == ["http://shop.test/a", "http://shop.test/b"]


def test_bytes_follow_a_declared_charset() -> None:
    page = parse('<meta charset="windows-1252"><title>Caf\xe9</title>'.encode("cp1252"), URL)
    assert extract_item(page, None).title == "Café"


def test_bytes_without_a_charset_are_utf8() -> None:
    assert extract_item(parse("<title>Café</title>".encode(), URL), None).title == "Café"


# --- selectors ---


@pytest.mark.parametrize("selector", ["div >>> p", "a[href=", "", "a,", "p:nth-child(", "a:nope"])
def test_a_selector_that_cannot_compile_is_a_selector_error_naming_it(selector: str) -> None:
    page = parse("<a href='/a'>a</a>", URL)
    with pytest.raises(SelectorError) as raised:
        listing_links(page, selector)
    assert repr(selector) in str(raised.value)
    assert isinstance(raised.value, HaulError)
    with pytest.raises(SelectorError):
        next_page(page, selector)
    with pytest.raises(SelectorError):
        check_selector(selector)


def test_lexbor_closes_an_unfinished_attribute_selector_as_browsers_do() -> None:
    # CSS closes open brackets at the end of input, so `a[href` means `a[href]`.
    check_selector("a[href")
    assert listing_links(parse("<a href='/a'>a</a><a>b</a>", URL), "a[href") == [
        "http://shop.test/a"
    ]


@pytest.mark.parametrize("field", ["title", "description", "cover", "media"])
def test_a_broken_item_rule_names_the_field_and_the_selector(field: str) -> None:
    rules = ItemRules.model_validate({field: "div >>> p@src"})
    with pytest.raises(SelectorError, match=rf"{field} rule 'div >>> p@src'"):
        extract_item(parse("<p>x</p>", URL), rules)


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("img.cover@src", ("img.cover", "src")),
        ("a.dl @ href", ("a.dl @ href", None)),
        ("a.dl@HREF ", ("a.dl", "href")),
        ("meta[itemprop=name]@content", ("meta[itemprop=name]", "content")),
        ('a[href$="@x"]', ('a[href$="@x"]', None)),
        ("h1.title", ("h1.title", None)),
        ("a@data-src", ("a", "data-src")),
    ],
)
def test_a_rule_may_end_in_an_attribute(rule: str, expected: tuple[str, str | None]) -> None:
    assert split_rule(rule) == expected


def test_check_rule_checks_only_the_selector_part() -> None:
    check_rule("img.cover@src")
    with pytest.raises(SelectorError):
        check_rule("img >>> x@src")


# --- listing links ---


def test_listing_links_are_absolute_in_document_order_and_unique() -> None:
    page = parse(
        """<a class=i href="/b">b</a><a class=i href="a.html#top">a</a>
        <a class=i href="http://other.test/c">c</a><a class=i href="/b#again">b2</a>
        <a class=x href="/nope">no</a>""",
        URL,
    )
    assert listing_links(page, "a.i") == [
        "http://shop.test/b",
        "http://shop.test/c/music/a.html",
        "http://other.test/c",
    ]


def test_a_selector_list_still_gives_document_order() -> None:
    page = parse('<a class=y href="/1">1</a><a class=x href="/2">2</a>', URL)
    assert listing_links(page, "a.x, a.y") == ["http://shop.test/1", "http://shop.test/2"]


def test_other_elements_give_the_first_link_inside() -> None:
    page = parse(
        """<div class=card><img src=c.jpg><a href="/one">1</a><a href="/one-b">x</a></div>
        <div class=card><span>no link</span></div>
        <div class=card><a>no href</a><a href="/two">2</a></div>""",
        URL,
    )
    assert listing_links(page, "div.card") == ["http://shop.test/one", "http://shop.test/two"]


def test_unfetchable_and_empty_links_are_skipped() -> None:
    page = parse(
        """<a href="javascript:void(0)">j</a><a href=" JavaScript:x">j2</a>
        <a href="mailto:a@b.test">m</a><a href="data:text/plain,hi">d</a><a href="">e</a>
        <a href="   ">w</a><a href="#top">f</a><a>none</a><a href="http://[::1">bad</a>
        <a href=" /ok ">ok</a>""",
        URL,
    )
    assert listing_links(page, "a") == ["http://shop.test/ok"]


def test_no_selector_means_no_links() -> None:
    # Guessing which links are items would queue menus and footers; the caller asks instead.
    assert listing_links(parse('<a href="/a">a</a>', URL), None) == []


# --- next page ---


@pytest.mark.parametrize(
    ("html", "selector", "expected"),
    [
        (
            '<a class=more href="?page=2">more</a>',
            "a.more",
            "http://shop.test/c/music/index.html?page=2",
        ),
        ('<li class=next><a href="/p2">2</a></li>', "li.next", "http://shop.test/p2"),
        ('<a rel="next" href="p2.html">next</a>', None, "http://shop.test/c/music/p2.html"),
        ('<a rel="Next nofollow" href="/p2">n</a>', None, "http://shop.test/p2"),
        ('<head><link rel="next" href="/p2"></head>', None, "http://shop.test/p2"),
        ('<a class=more>none</a><link rel=next href="/p2">', "a.more", "http://shop.test/p2"),
        ('<a rel=next href="#">self</a>', None, None),
        (f'<a rel=next href="{URL}#x">self</a>', None, None),
        ('<a rel=prev href="/p0">p</a><a href="/p2">2</a>', None, None),
        ('<a rel=next href="javascript:go()">n</a>', None, None),
    ],
)
def test_next_page(html: str, selector: str | None, expected: str | None) -> None:
    assert next_page(parse(html, URL), selector) == expected


def test_next_page_respects_the_base() -> None:
    page = parse('<base href="http://cdn.test/list/"><a rel=next href="2">n</a>', URL)
    assert next_page(page, None) == "http://cdn.test/list/2"


# --- title, description, cover ---


def test_generic_item_fields_come_from_open_graph() -> None:
    page = parse(
        """<head><title>Page title</title>
        <meta property="og:title" content="  The   Song ">
        <meta property="og:description" content="About it">
        <meta name="description" content="meta description">
        <meta property="og:image" content="/img/cover.jpg"></head>""",
        URL,
    )
    info = extract_item(page, None)
    assert info.title == "The Song"
    assert info.description == "About it"
    assert info.cover_url == "http://shop.test/img/cover.jpg"


def test_the_title_element_and_meta_description_are_fallbacks() -> None:
    page = parse(
        '<title>\n  A\t long\n title </title><meta name="description" content="plain">', URL
    )
    info = extract_item(page, None)
    assert (info.title, info.description, info.cover_url) == ("A long title", "plain", None)


@pytest.mark.parametrize(
    "meta",
    [
        '<meta property="og:image:url" content="/c.jpg">',
        '<meta property="og:image:secure_url" content="/c.jpg">',
        '<meta name="twitter:image" content="/c.jpg">',
        '<meta property="og:image" content=""><meta name="twitter:image" content="/c.jpg">',
    ],
)
def test_cover_fallbacks(meta: str) -> None:
    assert extract_item(parse(meta, URL), None).cover_url == "http://shop.test/c.jpg"


def test_rules_win_over_open_graph_and_fall_back_when_they_find_nothing() -> None:
    html = """<meta property="og:title" content="OG"><meta property="og:image" content="/og.jpg">
    <h1 class=title> Rule <b>title</b> </h1><p class=summary>Rule text</p>
    <img class=cover src="/rule.jpg" data-big="/big.jpg">"""
    page = parse(html, URL)
    info = extract_item(
        page, ItemRules(title="h1.title", description="p.summary", cover="img.cover")
    )
    assert (info.title, info.description, info.cover_url) == (
        "Rule title",
        "Rule text",
        "http://shop.test/rule.jpg",
    )
    assert extract_item(page, ItemRules(cover="img.cover@data-big")).cover_url == (
        "http://shop.test/big.jpg"
    )
    missing = extract_item(page, ItemRules(title="h2.none", cover="img.none"))
    assert (missing.title, missing.cover_url) == ("OG", "http://shop.test/og.jpg")


def test_a_title_rule_can_take_an_attribute() -> None:
    page = parse('<meta itemprop="name" content=" Named  item ">', URL)
    assert extract_item(page, ItemRules(title="meta[itemprop=name]@content")).title == (
        "Named item"
    )


def test_a_url_rule_without_attribute_takes_src_then_href_then_content() -> None:
    page = parse(
        """<a class=m href="/by-href.mp3">a</a><span class=m content="/by-content.mp3"></span>
        <audio class=s src="/by-src.ogg"></audio>""",
        URL,
    )
    assert extract_item(page, ItemRules(media="a.m")).media_url == "http://shop.test/by-href.mp3"
    assert extract_item(page, ItemRules(media="span.m")).media_url == (
        "http://shop.test/by-content.mp3"
    )
    assert extract_item(page, ItemRules(media="audio.s")).media_url == (
        "http://shop.test/by-src.ogg"
    )


def test_a_media_rule_skips_matches_without_a_usable_url() -> None:
    page = parse(
        '<a class=dl href="javascript:x">x</a><a class=dl>no</a><a class=dl href="/f.zip">z</a>',
        URL,
    )
    info = extract_item(page, ItemRules(media="a.dl@href"))
    assert info.media_url == "http://shop.test/f.zip"
    assert info.media_type_hint == "application/zip"


# --- the media link, in order ---

LADDER = [
    ('<meta property="og:audio" content="/og-audio.mp3">', "/og-audio.mp3"),
    ('<meta property="og:video:secure_url" content="/og-video.mp4">', "/og-video.mp4"),
    ('<video><source src="/video-source.webm" type="video/webm"></video>', "/video-source.webm"),
    (
        '<script type="application/ld+json">{"@type": "AudioObject", '
        '"contentUrl": "/json-ld.flac"}</script>',
        "/json-ld.flac",
    ),
    ('<a download href="/download.bin">get</a>', "/download.bin"),
    (
        '<a href="/page.html">page</a><a href="/by-extension.pdf?x=1">pdf</a>',
        "/by-extension.pdf?x=1",
    ),
]


@pytest.mark.parametrize("level", range(len(LADDER)))
def test_media_sources_are_tried_in_order(level: int) -> None:
    # Each rung wins over every rung below it, wherever it sits in the page.
    html = "".join(snippet for snippet, _ in reversed(LADDER[level:]))
    assert media(html) == "http://shop.test" + LADDER[level][1]


@pytest.mark.parametrize(
    ("html", "expected", "hint"),
    [
        ('<meta property="og:audio:url" content="/a.mp3">', "/a.mp3", "audio/mpeg"),
        (
            '<meta property="og:audio" content="/stream?id=1">'
            '<meta property="og:audio:type" content="audio/ogg">',
            "/stream?id=1",
            "audio/ogg",
        ),
        ('<meta property="og:video" content="/v.mp4">', "/v.mp4", "video/mp4"),
        ('<audio src="/a.opus"></audio>', "/a.opus", "audio/opus"),
        ('<video src="/v.mkv"><source src="/v.webm"></video>', "/v.mkv", "video/x-matroska"),
        (
            '<audio><source type="audio/aac" src="/x"><source src="/y.mp3"></audio>',
            "/x",
            "audio/aac",
        ),
        (
            '<audio></audio><video><source src="/second.mov"></video>',
            "/second.mov",
            "video/quicktime",
        ),
        ('<a download="name.epub" href="/get?id=3">dl</a>', "/get?id=3", None),
        ('<a href="/cover.JPG">big</a><a href="/song.mp3">song</a>', "/cover.JPG", "image/jpeg"),
        ('<a href="/archive.tar.gz">tgz</a>', "/archive.tar.gz", "application/gzip"),
        ('<a href="/mp3">not an extension</a><a href="/.mp3">hidden</a>', None, None),
    ],
)
def test_media_variants(html: str, expected: str | None, hint: str | None) -> None:
    info = extract_item(parse(html, URL), None)
    assert info.media_url == (expected and "http://shop.test" + expected)
    assert info.media_type_hint == hint


@pytest.mark.parametrize(
    "json_ld",
    [
        '{"@type": "AudioObject", "contentUrl": "/m.mp3"}',
        '[{"@type": "WebPage"}, {"@type": "AudioObject", "contentUrl": "/m.mp3"}]',
        '{"@context": "https://schema.org", "@graph": [{"@type": "WebSite", "url": "/"},'
        ' {"@type": "ImageObject", "contentUrl": "/primary.jpg"},'
        ' {"@type": "VideoObject", "contentUrl": ["/m.mp3", "/other.mp3"]}]}',
        '{"@type": "MusicRecording", "image": {"@type": "ImageObject", "contentUrl": "/c.jpg"},'
        ' "audio": {"@type": "AudioObject", "contentUrl": "/m.mp3"}}',
        '{"@type": "VideoObject", "thumbnail": {"contentUrl": "/t.jpg"}, "contentUrl": "/m.mp3"}',
        '\n  {"@type": "AudioObject", "name": "tab\there", "contentUrl": "/m.mp3"}  ',
    ],
)
def test_json_ld_content_urls(json_ld: str) -> None:
    html = f'<script type="application/ld+json">{json_ld}</script>'
    assert media(html) == "http://shop.test/m.mp3"


@pytest.mark.parametrize(
    "json_ld",
    [
        '{"contentUrl": "/m.mp3"',
        "not json",
        pytest.param("[" * 100_000, id="too-deep"),
        '{"contentUrl": 5}',
        "12",
        "",
    ],
)
def test_broken_json_ld_is_ignored(json_ld: str) -> None:
    html = f'<script type="application/ld+json">{json_ld}</script><a href="/after.ogg">a</a>'
    assert media(html) == "http://shop.test/after.ogg"


def test_json_ld_states_the_format() -> None:
    html = (
        '<script type="application/ld+json">{"contentUrl": "/stream", '
        '"encodingFormat": "audio/flac"}</script>'
    )
    assert extract_item(parse(html, URL), None).media_type_hint == "audio/flac"


def test_media_urls_respect_the_base() -> None:
    html = '<base href="http://cdn.test/f/"><meta property="og:audio" content="song.mp3">'
    assert media(html) == "http://cdn.test/f/song.mp3"


def test_a_page_with_no_media_says_so_with_none() -> None:
    assert media('<title>t</title><a href="/about">about</a><img src="/x.png">') is None


# --- is it HTML? ---


@pytest.mark.parametrize(
    ("content_type", "first_bytes", "expected"),
    [
        ("text/html", b"", True),
        ("Text/HTML; charset=utf-8", b"%PDF", True),
        ("application/xhtml+xml", b"<?xml", True),
        ("audio/mpeg", b"<html>", False),
        ("text/plain", b"<!DOCTYPE html>", False),
        (None, b"<!DOCTYPE html><html>", True),
        ("", b"  \r\n\t<HTML lang=en>", True),
        ("application/octet-stream", b"\xef\xbb\xbf\n<!doctype html>", True),
        (None, "\ufeff<html>".encode("utf-16-le"), True),
        (None, "\ufeff<!doctype html>".encode("utf-16-be"), True),
        (None, b"<html", True),
        (None, b"<htmlx>", False),
        (None, b"<!doctype htmlfoo>", False),
        (None, b"ID3\x03\x00", False),
        (None, b"", False),
        (None, b"hello <html>", False),
        ("application/octet-stream", b"<?xml version='1.0'?>", False),
    ],
)
def test_is_html(content_type: str | None, first_bytes: bytes, expected: bool) -> None:
    assert is_html(content_type, first_bytes) is expected


# --- nothing raises on arbitrary input ---


@settings(max_examples=150, deadline=None)
@given(
    text=st.one_of(
        st.text(),
        st.text(alphabet=st.sampled_from(list("<>/=\"' abhrefmtlsciptdv:#@[]{}&;\n"))),
    ),
    raw=st.binary(max_size=200),
)
def test_any_input_parses_and_extracts_without_raising(text: str, raw: bytes) -> None:
    for html in (text, raw, f"<html><head><title>{text}</title></head><body><a href='{text}'>"):
        page = parse(html, URL)
        info = extract_item(page, None)
        for url in listing_links(page, "a"):
            assert urlsplit(url).scheme
            assert "#" not in url
        assert info.media_url is None or "#" not in info.media_url
        next_page(page, None)
