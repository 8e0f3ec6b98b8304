"""Site recipes: TOML files that load, fail one by one with their file name, and match URLs."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.html import ItemRules, extract_item, listing_links, next_page, parse
from core.recipes import (
    ListingRules,
    MatchRule,
    Recipe,
    RecipeBook,
    load_recipes,
    recipes_folder,
)

GOOD = """
name = "Demo music"
[match]
host = "127.0.0.1"
path = "/c/music*"
[listing]
items = "ul.items a.item"
next = "a.next"
[item]
title = "h1.title"
cover = "img.cover@src"
media = "a.download@href"
description = "p.summary"
"""


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_recipe_loads_every_field(tmp_path: Path) -> None:
    path = write(tmp_path, "demo.toml", GOOD)
    book = load_recipes(tmp_path)
    assert book.problems == []
    (recipe,) = book.recipes
    assert recipe.name == "Demo music"
    assert recipe.source == path
    assert recipe.match == MatchRule(host="127.0.0.1", path="/c/music*")
    assert recipe.listing == ListingRules(items="ul.items a.item", next="a.next")
    assert isinstance(recipe.item, ItemRules)
    assert recipe.item.model_dump() == {
        "title": "h1.title",
        "cover": "img.cover@src",
        "media": "a.download@href",
        "description": "p.summary",
    }


def test_the_name_defaults_to_the_file_stem_and_sections_are_optional(tmp_path: Path) -> None:
    write(tmp_path, "just-items.toml", '[match]\nhost = "a.test"\n[item]\nmedia = "a.dl"\n')
    (recipe,) = load_recipes(tmp_path).recipes
    assert recipe.name == "just-items"
    assert recipe.listing is None
    assert recipe.item is not None
    assert recipe.item.model_dump(exclude_none=True) == {"media": "a.dl"}


def test_a_missing_folder_means_no_recipes(tmp_path: Path) -> None:
    book = load_recipes(tmp_path / "absent")
    assert (list(book.recipes), list(book.problems)) == ([], [])
    assert book.match("http://127.0.0.1/c/music") is None


def test_the_recipes_folder_is_beside_the_settings(tmp_path: Path) -> None:
    assert recipes_folder(tmp_path) == tmp_path / "recipes"


BAD = {
    "bad-toml.toml": ('name = "x\n[match', "not valid TOML"),
    "unknown-key.toml": (
        '[match]\nhost = "a.test"\ncolour = "red"\n',
        "unknown key `match.colour`",
    ),
    "unknown-section.toml": ('[listings]\nitems = "a"\n', "unknown key `listings`"),
    "bad-selector.toml": (
        '[match]\nhost = "a.test"\n[listing]\nitems = "div >>> p"\n',
        "`listing.items`: 'div >>> p' is not a CSS selector",
    ),
    "bad-item-selector.toml": (
        '[match]\nhost = "a.test"\n[item]\nmedia = "a[href=@href"\n',
        "`item.media`: 'a[href=' is not a CSS selector",
    ),
    "bad-regex.toml": (
        '[match]\npath_regex = "^/c/(unclosed"\n',
        "`match.path_regex`: '^/c/(unclosed' is not a regular expression",
    ),
    "both-paths.toml": ('[match]\npath = "/c*"\npath_regex = "^/c"\n', "not both"),
    "no-items.toml": ('[listing]\nnext = "a.next"\n', "`listing.items` is required"),
    "wrong-type.toml": ("[listing]\nitems = 5\n", "`listing.items`"),
    "bad-host.toml": ('[match]\nhost = "ex*ample.test"\n', "not a host name"),
    "source-key.toml": ('source = "/etc/passwd"\n', "unknown key `source`"),
    "empty-name.toml": ('name = ""\n', "`name`"),
}


def test_each_bad_file_is_reported_by_name_and_the_good_ones_still_load(tmp_path: Path) -> None:
    write(tmp_path, "a-good.toml", GOOD)
    for name, (text, _) in BAD.items():
        write(tmp_path, name, text)
    write(tmp_path, "z-good.toml", '[match]\nhost = "z.test"\n')
    (tmp_path / "not-a-recipe.txt").write_text("ignored")
    (tmp_path / "latin1.toml").write_bytes(b'name = "caf\xe9"\n')
    book = load_recipes(tmp_path)

    assert [recipe.source.name for recipe in book.recipes] == ["a-good.toml", "z-good.toml"]
    problems = {problem.path.name: problem.message for problem in book.problems}
    assert set(problems) == {*BAD, "latin1.toml"}
    for name, (_, reason) in BAD.items():
        assert problems[name].startswith(f"{name}: ")
        assert reason in problems[name]
    assert problems["latin1.toml"] == "latin1.toml: not UTF-8 text"


def test_toml_errors_say_where(tmp_path: Path) -> None:
    write(tmp_path, "broken.toml", 'name = "ok"\n[match\n')
    (problem,) = load_recipes(tmp_path).problems
    assert "line 2" in problem.message


def test_files_are_read_in_name_order_and_dot_files_are_skipped(tmp_path: Path) -> None:
    for name in ("b.toml", "a.toml", "c.toml", ".#a.toml"):
        write(tmp_path, name, '[match]\nhost = "x.test"\n')
    assert [r.name for r in load_recipes(tmp_path).recipes] == ["a", "b", "c"]


def test_an_unreadable_entry_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "folder.toml").mkdir()
    (problem,) = load_recipes(tmp_path).problems
    assert problem.message.startswith("folder.toml: cannot be read")


def rule(**fields: str) -> MatchRule:
    return MatchRule.model_validate(fields)


@pytest.mark.parametrize(
    ("match", "url", "expected"),
    [
        (rule(host="127.0.0.1"), "http://127.0.0.1:8123/c/music", True),
        (rule(host="127.0.0.1"), "http://127.0.0.2/c/music", False),
        (rule(host="Shop.Test."), "https://shop.test/", True),
        (rule(host="*.example.com"), "https://cdn.example.com/x", True),
        (rule(host="*.example.com"), "https://a.b.example.com/x", True),
        (rule(host="*.example.com"), "https://example.com/x", True),
        (rule(host="*.example.com"), "https://badexample.com/x", False),
        (rule(host="*.example.com"), "https://example.com.evil.test/x", False),
        (rule(path="/c/music*"), "http://any.test/c/music/page/2", True),
        (rule(path="/c/music*"), "http://any.test/c/Music", False),
        (rule(path="/c/*/item-?"), "http://any.test/c/x/item-1", True),
        (rule(path="/"), "http://any.test", True),
        (rule(path="/c/music*"), "http://any.test/c/video?q=/c/music", False),
        (rule(path_regex=r"^/c/\d+$"), "http://any.test/c/42", True),
        (rule(path_regex=r"^/c/\d+$"), "http://any.test/c/42/x", False),
        (rule(path_regex="music"), "http://any.test/x/music/y", True),
        (rule(host="*.shop.test", path="/c/*"), "http://www.shop.test/c/1", True),
        (rule(host="*.shop.test", path="/c/*"), "http://www.shop.test/d/1", False),
        (rule(host="*.shop.test", path="/c/*"), "http://other.test/c/1", False),
        (rule(), "http://any.test/", False),
        (rule(host="a.test"), "http://[::1/", False),
    ],
)
def test_match_rules(match: MatchRule, url: str, expected: bool) -> None:
    assert match.matches(url) is expected


def test_the_first_matching_recipe_in_file_order_wins(tmp_path: Path) -> None:
    write(tmp_path, "10-music.toml", '[match]\nhost = "*.shop.test"\npath = "/c/music*"\n')
    write(tmp_path, "20-shop.toml", '[match]\nhost = "*.shop.test"\n')
    write(tmp_path, "30-unmatched.toml", 'name = "never"\n[listing]\nitems = "a"\n')
    book = load_recipes(tmp_path)
    assert len(book.recipes) == 3
    assert _name(book, "http://www.shop.test/c/music/1") == "10-music"
    assert _name(book, "http://shop.test/c/video") == "20-shop"
    assert _name(book, "http://elsewhere.test/c/music") is None


def _name(book: RecipeBook, url: str) -> str | None:
    recipe = book.match(url)
    return recipe.name if recipe else None


def test_an_empty_book_can_be_built_by_hand() -> None:
    assert RecipeBook([], []).match("http://a.test/") is None
    assert Recipe(name="x", source=Path("x.toml")).matches("http://a.test/") is False


def test_a_loaded_recipe_drives_the_page_rules(tmp_path: Path) -> None:
    write(tmp_path, "demo.toml", GOOD)
    url = "http://127.0.0.1:8000/c/music/1"
    recipe = load_recipes(tmp_path).match(url)
    assert recipe is not None and recipe.listing is not None
    page = parse(
        """<ul class=items><li><a class=item href="/i/1">1</a></li></ul>
        <a class=next href="2">n</a><h1 class=title>One</h1><img class=cover src="/c1.jpg">
        <a class=download href="/f/1.mp3">dl</a>""",
        url,
    )
    assert listing_links(page, recipe.listing.items) == ["http://127.0.0.1:8000/i/1"]
    assert next_page(page, recipe.listing.next) == "http://127.0.0.1:8000/c/music/2"
    info = extract_item(page, recipe.item)
    assert (info.title, info.cover_url, info.media_url) == (
        "One",
        "http://127.0.0.1:8000/c1.jpg",
        "http://127.0.0.1:8000/f/1.mp3",
    )
