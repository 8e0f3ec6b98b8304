"""Listing → item pages → media → library, through the real `haul` command and engine."""

from __future__ import annotations

import json
from pathlib import Path

from core import Haul, State
from core.demo import LoopbackServer

from .conftest import HaulFactory, haul_json, run_haul
from .samples import assert_thumbnail
from .sites import build_catalogue, item_page
from .test_downloads import run_idle


def test_a_paginated_listing_becomes_twelve_entries_with_titles_and_covers(
    server: LoopbackServer,
) -> None:
    entries = build_catalogue(server)
    listing = server.url("/c/music")
    added = run_haul("add", "--json", "--listing", listing, "--items", "a.item")
    assert added.returncode == 0, added.stderr
    [listing_item] = json.loads(added.stdout)["added"]
    assert listing_item["kind"] == "listing" and listing_item["stage"] == "scrape"

    run = run_haul("run", "--until-idle")
    assert run.returncode == 0, run.stdout + run.stderr

    items = haul_json("list")
    children = [i for i in items if i["parent_id"] == listing_item["id"]]
    assert len(items) == 13 and len(children) == 12
    assert all(child["state"] == "done" for child in children)
    assert {child["batch_id"] for child in children} == {listing_item["batch_id"]}
    library = haul_json("library")
    assert len(library) == 12
    by_title = {entry["title"]: entry for entry in library}
    for expected in entries:
        entry = by_title[expected.title]
        assert entry["sha256"] == expected.sha256
        assert Path(entry["path"]).read_bytes() == expected.media
        assert_thumbnail(entry["thumbnail"], expected_size=(320, 320))
        assert entry["page_url"] == server.url(f"/i/{expected.slug}")
        assert entry["description"] == f"About {expected.title}"
        assert entry["sources"][0]["parent_id"] == listing_item["id"]
    log = haul_json("list")[0]
    assert log["state"] == "done"
    status = json.loads(run_haul("status", "--json").stdout)
    [batch] = status["batches"]
    assert batch["items"] == 13 and batch["percent"] == 100 and batch["failed"] == 0
    # the repeated links were reported, not queued twice
    assert len(server.requests_to("/media/track-04.mp3")) == 1

    again = run_haul("add", "--json", "--listing", listing, "--items", "a.item")
    assert json.loads(again.stdout)["duplicates"][0]["item_id"] == listing_item["id"]
    media_requests = sum(len(server.requests_to(f"/media/{e.slug}.mp3")) for e in entries)
    assert media_requests == 12


async def test_a_listing_added_again_under_a_new_batch_queues_nothing_new(
    make_haul: HaulFactory, server: LoopbackServer
) -> None:
    build_catalogue(server)
    haul = await make_haul()
    await haul.submit([], listings=[server.url("/c/music")], items_selector="a.item")
    assert await run_idle(haul) == 0
    other = server.url("/c/music") + "?sort=new"  # another listing URL, the same items
    second = await haul.submit([], listings=[other], items_selector="a.item")
    assert await run_idle(haul) == 0
    items = await haul.items()
    assert len([i for i in items if i.parent_id == second.added[0].id]) == 0
    assert len(await haul.library()) == 12
    log = " ".join(m for _, _, m in await haul.item_log(second.added[0].id))
    assert "14 links, 0 new, 14 already queued" in log


async def test_pages_that_cannot_be_read_fail_clearly_and_the_rest_completes(
    make_haul: HaulFactory, server: LoopbackServer
) -> None:
    haul = await make_haul(page_max_bytes=64 * 1024)
    server.add("/media/ok.mp3", b"ok" * 1000, "audio/mpeg")
    server.add_html("/i/ok", item_page("Fine", "/media/ok.mp3", "/covers/none.png"))
    server.add_html("/i/huge", "<html>" + "x" * 200_000 + "</html>")
    server.add_html("/i/no-media", item_page("Nothing here", None, "/covers/none.png"))
    server.add("/i/malformed", b"<html><head><meta property='og:title' content='Broken'"
               b"<body><a download href='/media/ok2.mp3'>\xff\xfe<div><p", "text/html")  # fmt: skip
    server.add("/media/ok2.mp3", b"two" * 1000, "audio/mpeg")
    urls = [server.url(p) for p in ("/i/ok", "/i/huge", "/i/no-media", "/i/malformed")]
    submission = await haul.submit(urls)
    assert await run_idle(haul) == 2
    ok, huge, no_media, malformed = [await haul.item(i.id) for i in submission.added]
    assert ok is not None and ok.state == State.DONE and ok.title == "Fine"
    assert huge is not None and huge.state == State.FAILED
    assert "larger than the 64 KiB limit" in (huge.error or "")
    assert no_media is not None and no_media.state == State.FAILED
    assert "no media link found" in (no_media.error or "") and "recipe" in (no_media.error or "")
    assert malformed is not None and malformed.state == State.DONE
    # a missing cover never fails the item
    assert ok.entry_id is not None


async def test_a_recipe_with_a_broken_selector_fails_its_items_only(
    make_haul: HaulFactory, server: LoopbackServer, tmp_path: Path
) -> None:
    recipes = tmp_path / "recipes"
    recipes.mkdir()
    (recipes / "good.toml").write_text(
        '[match]\npath = "/shop/*"\n[item]\nmedia = "a.get@href"\ntitle = "h2"\n'
    )
    (recipes / "broken.toml").write_text('[match]\npath = "/bad/*"\n[item]\nmedia = "div >>> a"\n')
    haul = await make_haul(recipes_dir=recipes)
    server.add("/files/a.bin", b"a" * 5000)
    server.add_html("/shop/a", '<h2>Shop item</h2><a class="get" href="/files/a.bin">get</a>')
    server.add("/files/b.bin", b"b" * 5000)
    server.add_html("/bad/b", '<a download href="/files/b.bin">x</a>')
    book = haul.recipes()
    assert [r.name for r in book.recipes] == ["good"]
    assert "broken.toml" in book.problems[0].message
    submission = await haul.submit([server.url("/shop/a"), server.url("/bad/b")])
    assert await run_idle(haul) == 0
    shop, bad = [await haul.item(i.id) for i in submission.added]
    assert shop is not None and shop.state == State.DONE and shop.title == "Shop item"
    # the broken recipe did not load, so the generic rules handled the other page
    assert bad is not None and bad.state == State.DONE


async def test_batches_take_turns_in_a_lane(make_haul: HaulFactory, server: LoopbackServer) -> None:
    haul: Haul = await make_haul(max_concurrent_downloads=1)
    for n in range(6):
        server.add(f"/a/{n}.bin", bytes([n]) * 100)
        server.add(f"/b/{n}.bin", bytes([n + 10]) * 100)
    await haul.submit([server.url(f"/a/{n}.bin") for n in range(6)])
    await haul.submit([server.url(f"/b/{n}.bin") for n in range(3)])
    assert await run_idle(haul) == 0
    order = [r.path.split("/")[1] for r in server.requests]
    assert order[:6] == ["a", "b", "a", "b", "a", "b"]


async def test_listing_links_get_the_same_guard_as_typed_urls(
    make_haul: HaulFactory,
) -> None:
    from core.demo.site import DemoSite

    with DemoSite(slow_seconds=0.2).running_in_thread() as site:
        haul = await make_haul()
        listing = site.bad_urls()["listing"]
        submission = await haul.submit([], listings=[listing], items_selector="a.item")
        assert await run_idle(haul) == 0
        listing_id = submission.added[0].id
        children = [i for i in await haul.items() if i.parent_id == listing_id]
        assert sorted(i.source for i in children) == sorted(
            link for link in site.bad_listing_links() if "127.0.0.2" not in link
        )
        log = " ".join(m for _, _, m in await haul.item_log(listing_id))
        assert f"refused link {site.foreign_url()}" in log and "loopback" in log
        assert "1 refused" in log


async def test_a_recipe_with_listing_rules_makes_a_plain_url_a_listing(
    make_haul: HaulFactory, server: LoopbackServer, tmp_path: Path
) -> None:
    build_catalogue(server)
    recipes = tmp_path / "recipes"
    recipes.mkdir()
    (recipes / "shop.toml").write_text(
        'name = "Shop"\n[match]\nhost = "127.0.0.1"\npath = "/c/*"\n'
        '[listing]\nitems = "ul.items a.item"\n'
    )
    haul = await make_haul(recipes_dir=recipes)
    submission = await haul.submit([server.url("/c/music")])
    [listing] = submission.added
    assert listing.kind.value == "listing"
    assert await run_idle(haul) == 0
    assert len(await haul.library()) == 12


def test_recipes_are_listed_and_tested_from_the_command_line(
    server: LoopbackServer, tmp_path: Path
) -> None:
    build_catalogue(server)
    recipes = tmp_path / "recipes"
    recipes.mkdir()
    (recipes / "shop.toml").write_text(
        'name = "Shop"\n[match]\npath = "/c/*"\n[listing]\nitems = "a.item"\n'
    )
    (recipes / "bad.toml").write_text("[match\n")
    env = {"HAUL_RECIPES_DIR": str(recipes)}
    listed = run_haul("recipes", **env)
    assert listed.returncode == 1
    assert "Shop" in listed.stdout and "bad.toml" in listed.stderr
    report = json.loads(run_haul("recipes", "test", server.url("/c/music"), "--json", **env).stdout)
    assert report["recipe"] == "Shop" and report["rules"] == "recipe"
    assert [link["url"] for link in report["links"]] == [
        server.url(f"/i/track-0{n}") for n in range(5)
    ]
    assert report["next_page"] == server.url("/c/music/2")
    item = json.loads(run_haul("recipes", "test", server.url("/i/track-03"), "--json").stdout)
    assert item["rules"] == "generic"
    assert item["item"]["title"] == "Track 03"
    assert item["item"]["media_url"] == server.url("/media/track-03.mp3")
    assert item["item"]["cover_url"] == server.url("/covers/track-03.png")
    assert haul_json("list") == []  # testing queues nothing
