"""The demo catalogue: browsable pages generated from the catalogue data, served for real.

Every page is fetched over HTTP from a loopback server in a thread and read with the
standard library's HTML parser, the way a scraper would see it.
"""

from __future__ import annotations

import hashlib
import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from core.demo import DemoSite, LoopbackServer
from core.demo import site as site_module

SLOW = 0.3
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MEDIA_EXTENSIONS = (".mp3", ".wav", ".mp4", ".jpg", ".png", ".pdf", ".zip", ".csv")


@dataclass
class Tag:
    name: str
    attrs: dict[str, str]


@dataclass
class Page:
    url: str
    tags: list[Tag] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)  # "h1.title" -> text

    def find(self, name: str, **attrs: str) -> list[Tag]:
        return [
            t
            for t in self.tags
            if t.name == name and all(attr_has(t, k, v) for k, v in attrs.items())
        ]

    def meta(self, prop: str) -> str | None:
        found = self.find("meta", property=prop)
        return found[0].attrs.get("content") if found else None

    def absolute(self, href: str) -> str:
        return urljoin(self.url, href)

    def hrefs(self, name: str, **attrs: str) -> list[str]:
        return [self.absolute(t.attrs["href"]) for t in self.find(name, **attrs)]

    def next_page(self) -> str | None:
        """The rel=next target; the <a> and the <link> must agree."""
        targets = set(self.hrefs("a", rel="next") + self.hrefs("link", rel="next"))
        assert len(targets) <= 1, targets
        assert len(self.find("a", rel="next")) == len(self.find("link", rel="next"))
        return targets.pop() if targets else None

    def item_links(self) -> list[str]:
        in_list = []
        depth = 0
        for tag in self.tags:
            if tag.name == "ul" and attr_has(tag, "class", "items"):
                depth = 1
            elif tag.name == "/ul":
                depth = 0
            elif depth and tag.name == "a" and attr_has(tag, "class", "item"):
                in_list.append(self.absolute(tag.attrs["href"]))
        return in_list


def attr_has(tag: Tag, name: str, value: str) -> bool:
    if name not in tag.attrs:
        return False
    if name in ("class", "rel"):
        return value in tag.attrs[name].split()
    return tag.attrs[name] == value


class Reader(HTMLParser):
    def __init__(self, page: Page) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.capturing: str | None = None
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = Tag(tag, {k: v if v is not None else "" for k, v in attrs})
        self.page.tags.append(found)
        for key in ("h1.title", "p.summary"):
            name, cls = key.split(".")
            if tag == name and attr_has(found, "class", cls):
                self.capturing, self.text = key, []

    def handle_endtag(self, tag: str) -> None:
        self.page.tags.append(Tag("/" + tag, {}))
        if self.capturing and self.capturing.startswith(tag + "."):
            self.page.texts[self.capturing] = "".join(self.text).strip()
            self.capturing = None

    def handle_data(self, data: str) -> None:
        if self.capturing:
            self.text.append(data)


def parse(url: str, body: str) -> Page:
    page = Page(url)
    reader = Reader(page)
    reader.feed(body)
    reader.close()
    return page


@pytest.fixture
def site() -> Iterator[DemoSite]:
    with DemoSite(slow_seconds=SLOW).running_in_thread() as running:
        yield running


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5.0, trust_env=False) as c:
        yield c


def fetch(client: httpx.Client, url: str) -> Page:
    response = client.get(url)
    assert response.status_code == 200, url
    assert response.headers["content-type"] == "text/html; charset=utf-8", url
    return parse(url, response.text)


def walk(client: httpx.Client, url: str) -> list[Page]:
    """A listing's pages, following rel=next until it stops."""
    pages = [fetch(client, url)]
    while (following := pages[-1].next_page()) is not None:
        assert following not in [p.url for p in pages], "rel=next loops"
        pages.append(fetch(client, following))
    return pages


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------- building


def test_build_is_fast_and_deterministic(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(site_module, "_made", {})  # nothing generated yet
    started = time.perf_counter()
    first = DemoSite()
    elapsed = time.perf_counter() - started
    assert elapsed < 2.0  # about 0.3 s on a quiet machine; generous for a busy one
    monkeypatch.setattr(site_module, "_made", {})
    second = DemoSite()
    assert first.checksums() == second.checksums()
    for path in first.server.paths():
        if path != "/bad/listing":
            one, two = first.server.resource(path), second.server.resource(path)
            assert one is not None and two is not None
            assert one.body == two.body, path


def test_catalogue_api(site: DemoSite) -> None:
    assert set(site.category_urls()) == {"music", "photos", "video", "documents"}
    assert site.category_urls()["music"] == site.listing_url("music") == site.url("/c/music")
    assert site.listing_pages("music") == [
        site.url("/c/music"),
        site.url("/c/music?page=2"),
        site.url("/c/music?page=3"),
    ]
    every_item = [u for c in site.category_urls() for u in site.item_urls(c)]
    assert sorted(every_item) == sorted(site.url(i.page_path) for i in site.items)
    # file_urls()/expected() are still the direct files: all of them, less the broken one.
    urls, expected = site.file_urls(), site.expected()
    assert len(urls) == len(site.items) and len(expected) == len(urls) - 1
    for category in site.category_urls():
        for facts in site.item_expectations(category).values():
            assert facts["media_url"] in urls
            assert expected.get(facts["media_url"]) == facts["media_sha256"]
    with pytest.raises(KeyError):
        site.item_urls("nope")


# ---------------------------------------------------------------- browsing


def test_home_links_every_category_and_nothing_bad(site: DemoSite, client: httpx.Client) -> None:
    home = fetch(client, site.url("/"))
    assert home.hrefs("a", **{"class": "category"}) == list(site.category_urls().values())
    # Crawl every page reachable from home: the whole catalogue, none of /bad/.
    seen: set[str] = set()
    queue = [home.url]
    while queue:
        url = queue.pop()
        if url in seen:
            continue
        seen.add(url)
        page = fetch(client, url)
        for href in page.hrefs("a") + page.hrefs("link"):
            if urlsplit(href).path.startswith(("/c/", "/i/")) or href == home.url:
                queue.append(href.split("#")[0])
    assert not any("/bad/" in url for url in seen)
    for category in site.category_urls():
        assert set(site.item_urls(category)) <= seen
        assert set(site.listing_pages(category)) <= seen


def test_music_listing_has_12_items_over_3_pages_one_repeated(
    site: DemoSite, client: httpx.Client
) -> None:
    pages = walk(client, site.listing_url("music"))
    assert [p.url for p in pages] == site.listing_pages("music")
    assert pages[-1].url.endswith("/c/music?page=3") and pages[-1].next_page() is None
    assert not pages[0].find("a", rel="prev")
    links = [link for page in pages for link in page.item_links()]
    assert links == site.listing_links("music")
    assert len(links) == 13 and len(set(links)) == 12
    assert list(dict.fromkeys(links)) == site.item_urls("music")
    repeated = set(pages[0].item_links()) & set(pages[1].item_links())
    assert len(repeated) == 1
    assert not set(pages[2].item_links()) & (
        set(pages[0].item_links()) | set(pages[1].item_links())
    )
    # Item hrefs are written relative to the site root.
    raw = client.get(site.listing_url("music")).text
    assert '<a class="item" href="/i/night-drive">Night Drive</a>' in raw
    behaviours = [site.item_expectations("music")[u]["behaviour"] for u in site.item_urls("music")]
    assert sorted(b for b in behaviours if b != "normal") == ["broken", "flaky", "slow"]


def test_every_category_lists_its_items(site: DemoSite, client: httpx.Client) -> None:
    for category, url in site.category_urls().items():
        pages = walk(client, url)
        assert [p.url for p in pages] == site.listing_pages(category)
        links = [link for page in pages for link in page.item_links()]
        assert list(dict.fromkeys(links)) == site.item_urls(category)
    assert len(site.listing_pages("photos")) == 2


# ------------------------------------------------------------------ item pages


def test_item_pages_carry_og_tags_media_and_a_png_cover(
    site: DemoSite, client: httpx.Client
) -> None:
    for category in site.category_urls():
        for url, facts in site.item_expectations(category).items():
            page = fetch(client, url)
            assert page.meta("og:title") == facts["title"]
            assert page.texts["h1.title"] == facts["title"]
            assert page.meta("og:description") == facts["description"]
            assert page.texts["p.summary"] == facts["description"]
            assert page.absolute(page.meta("og:image") or "") == facts["cover_url"]
            titles = [t for t in page.tags if t.name == "title"]
            assert len(titles) == 1
            downloads = [
                t for t in page.find("a", **{"class": "download"}) if "download" in t.attrs
            ]
            assert [page.absolute(t.attrs["href"]) for t in downloads] == [facts["media_url"]]
            kind = facts["content_type"].split("/")[0]
            players = [
                page.absolute(t.attrs["src"]) for t in page.find("audio") + page.find("video")
            ]
            if kind in ("audio", "video"):
                assert [page.absolute(t.attrs["src"]) for t in page.find(kind)] == players
                assert players == [facts["media_url"]]
            else:
                assert players == []
            cover = client.get(facts["cover_url"])
            assert cover.status_code == 200
            assert cover.headers["content-type"] == "image/png"
            assert cover.content.startswith(PNG_MAGIC)
            assert struct.unpack(">II", cover.content[16:24]) == (64, 64)
            assert sha256(cover.content) == facts["cover_sha256"]
    covers = {
        facts["cover_sha256"]
        for category in site.category_urls()
        for facts in site.item_expectations(category).values()
    }
    assert len(covers) == len(site.items)  # every item its own cover


def test_titles_are_html_escaped(site: DemoSite, client: httpx.Client) -> None:
    url = site.url("/i/gulls-and-buoys")
    raw = client.get(url).text
    assert '<meta property="og:title" content="Gulls &amp; Buoys">' in raw
    assert fetch(client, url).meta("og:title") == "Gulls & Buoys"
    assert fetch(client, site.url("/i/cafe-mistral")).meta("og:title") == "Café Mistral"


def test_music_media_download_with_their_behaviours(site: DemoSite, client: httpx.Client) -> None:
    facts = site.item_expectations("music")
    by_behaviour = {f["behaviour"]: f for f in facts.values() if f["behaviour"] != "normal"}
    for item in facts.values():
        if item["behaviour"] == "normal":
            response = client.get(item["media_url"])
            assert response.status_code == 200
            assert len(response.content) >= 20_000
            assert sha256(response.content) == item["media_sha256"]
    sizes = sorted(
        len(site.body(urlsplit(f["media_url"]).path)) for f in facts.values() if f["media_sha256"]
    )
    assert sizes[0] < 100_000 and sizes[-1] > 1_000_000  # varied sizes
    # Broken: the page is fine, its media link is not.
    broken = by_behaviour["broken"]
    assert broken["media_sha256"] is None
    assert client.get(broken["media_url"]).status_code == 404
    # Flaky: 503 with Retry-After: 1, twice, then the file.
    flaky = by_behaviour["flaky"]
    for _ in range(2):
        refused = client.get(flaky["media_url"])
        assert (refused.status_code, refused.headers["retry-after"]) == (503, "1")
    recovered = client.get(flaky["media_url"])
    assert recovered.status_code == 200
    assert sha256(recovered.content) == flaky["media_sha256"]
    # Slow: throttled so the whole file takes about slow_seconds.
    slow = by_behaviour["slow"]
    started = time.monotonic()
    response = client.get(slow["media_url"])
    elapsed = time.monotonic() - started
    assert sha256(response.content) == slow["media_sha256"]
    assert SLOW * 0.8 <= elapsed < SLOW + 2.0


# ------------------------------------------------------------------ bad pages


def test_bad_pages(site: DemoSite, client: httpx.Client) -> None:
    bad = site.bad_urls()
    expectations = site.bad_expectations()
    assert set(bad) == {"huge", "no-media", "malformed", "listing"}

    huge = client.get(bad["huge"])
    assert huge.status_code == 200 and huge.headers["content-type"].startswith("text/html")
    assert len(huge.content) > 3 * 1024 * 1024
    assert int(huge.headers["content-length"]) == len(huge.content)
    page = parse(str(huge.url), huge.text)
    assert page.meta("og:title") == expectations[bad["huge"]]["title"]
    assert huge.content.rfind(b"download href=") > 3 * 1024 * 1024  # the link is past the bulk
    assert page.hrefs("a", **{"class": "download"}) == [expectations[bad["huge"]]["media_url"]]

    no_media = fetch(client, bad["no-media"])
    assert no_media.meta("og:title") == expectations[bad["no-media"]]["title"]
    assert no_media.texts["h1.title"]
    assert not [t for t in no_media.tags if "download" in t.attrs]
    assert not no_media.find("audio") + no_media.find("video") + no_media.find("source")
    assert not any(no_media.meta(p) for p in ("og:audio", "og:video", "og:image"))
    assert not [h for h in no_media.hrefs("a") if h.lower().endswith(MEDIA_EXTENSIONS)]
    assert "application/ld+json" not in client.get(bad["no-media"]).text

    malformed = client.get(bad["malformed"])
    assert malformed.status_code == 200
    raw = malformed.content
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert b"\x00" in raw and not raw.rstrip().endswith(b"</html>")
    assert b'<meta property="og:title" content="Salvaged Reel">' in raw
    assert b'<a class="download" download href="/files/bad/salvaged-reel.mp3">' in raw
    facts = expectations[bad["malformed"]]
    assert facts["title"] == "Salvaged Reel"
    assert facts["media_url"] == site.url("/files/bad/salvaged-reel.mp3")
    media = client.get(facts["media_url"])
    assert media.status_code == 200 and sha256(media.content) == facts["media_sha256"]

    listing = fetch(client, bad["listing"])
    links = listing.item_links()
    assert links == site.bad_listing_links()
    foreign = site.foreign_url()
    assert foreign == f"http://127.0.0.2:{site.server.port}/x" and foreign in links
    assert [urlsplit(u).hostname for u in links if u != foreign] == ["127.0.0.1", "127.0.0.1"]
    assert listing.next_page() is None
    for link in links:
        if link != foreign:  # the foreign link is never contacted
            assert client.get(link).status_code == 200


def test_bad_listing_follows_the_port_of_a_given_running_server(client: httpx.Client) -> None:
    with LoopbackServer().running_in_thread() as server:
        site = DemoSite(server, slow_seconds=SLOW)
        page = fetch(client, site.bad_urls()["listing"])
        assert f"http://127.0.0.2:{server.port}/x" in page.item_links()
