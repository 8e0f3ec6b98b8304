"""Site recipes: which links on a listing are items, and where an item page keeps its media.

A recipe is one TOML file in the recipes folder (`recipes_folder(config_dir)`). Files are
read in name order and the first recipe whose match rule fits a URL wins::

    name = "Demo music"            # optional; defaults to the file stem
    [match]
    host = "127.0.0.1"             # exact host, or "*.example.com" for it and its subdomains
    path = "/c/music*"             # fnmatch-style glob on the URL path (case-sensitive); or
    # path_regex = "^/c/"          # a regular expression searched in the path (not both)
    [listing]
    items = "ul.items a.item"      # CSS selector for the item links
    next = "a.next"                # optional: the next page link (else rel=next)
    [item]
    title = "h1.title"             # the element's text
    cover = "img.cover@src"        # `selector@name` takes that attribute
    media = "a.download@href"      # without `@`, cover and media take src, href, then content
    description = "p.summary"

The host rule ignores the port. A recipe without a match rule (or with an empty one) never
matches. Unknown keys are errors, and every selector and regex is compiled when the file is
read: a file that cannot be used becomes a `RecipeProblem` naming the file and the reason,
and the other files still load. Files whose names start with a dot (editor leftovers) are
not read.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from .html import ItemRules, SelectorError, check_rule, check_selector

__all__ = [
    "ListingRules",
    "MatchRule",
    "Recipe",
    "RecipeBook",
    "RecipeItemRules",
    "RecipeProblem",
    "load_recipes",
    "recipes_folder",
]


def _compiled_selector(selector: str) -> str:
    try:
        check_selector(selector)
    except SelectorError as exc:
        raise ValueError(str(exc)) from exc
    return selector


def _compiled_rule(rule: str) -> str:
    try:
        check_rule(rule)
    except SelectorError as exc:
        raise ValueError(str(exc)) from exc
    return rule


CssSelector = Annotated[str, AfterValidator(_compiled_selector)]
CssRule = Annotated[str, AfterValidator(_compiled_rule)]


class MatchRule(BaseModel):
    """Which URLs a recipe claims: a host (or `*.domain`) and a path glob or regex."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str | None = None
    path: str | None = Field(default=None, min_length=1)
    path_regex: str | None = None

    @field_validator("host")
    @classmethod
    def _host_shape(cls, value: str | None) -> str | None:
        if value is None:
            return None
        host = value.strip().lower().rstrip(".")
        bare = host.removeprefix("*.")
        if not bare or any(c in bare for c in "*/?#@ ") or bare.startswith("."):
            raise ValueError(f"{value!r} is not a host name or a *.domain pattern")
        return host

    @field_validator("path_regex")
    @classmethod
    def _regex_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"{value!r} is not a regular expression: {exc}") from exc
        return value

    @model_validator(mode="after")
    def _one_path_rule(self) -> MatchRule:
        if self.path is not None and self.path_regex is not None:
            raise ValueError("give `path` or `path_regex`, not both")
        return self

    def matches(self, url: str) -> bool:
        """True when every part of the rule fits the URL; an empty rule fits nothing."""
        if self.host is None and self.path is None and self.path_regex is None:
            return False
        try:
            parts = urlsplit(url)
            host = (parts.hostname or "").rstrip(".")
        except ValueError:
            return False
        if self.host is not None and not _host_fits(self.host, host):
            return False
        path = parts.path or "/"
        if self.path is not None and not fnmatchcase(path, self.path):
            return False
        return self.path_regex is None or re.search(self.path_regex, path) is not None


class ListingRules(BaseModel):
    """Selectors for a listing page: the item links and, optionally, the next page link."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    items: CssSelector
    next: CssSelector | None = None


class RecipeItemRules(ItemRules):
    """Item rules whose selectors were compiled when the recipe file was read."""

    title: CssRule | None = None
    description: CssRule | None = None
    cover: CssRule | None = None
    media: CssRule | None = None


class Recipe(BaseModel):
    """One site recipe, as read from `source`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    match: MatchRule = Field(default_factory=MatchRule)
    listing: ListingRules | None = None
    item: RecipeItemRules | None = None
    source: Path

    def matches(self, url: str) -> bool:
        return self.match.matches(url)


@dataclass(frozen=True)
class RecipeProblem:
    """A recipe file that was not loaded, and why, in words a person can act on."""

    path: Path
    message: str


@dataclass(frozen=True)
class RecipeBook:
    """The recipes that loaded, in file order, and the files that did not."""

    recipes: Sequence[Recipe] = ()
    problems: Sequence[RecipeProblem] = ()

    def match(self, url: str) -> Recipe | None:
        """The first recipe (in file order) that claims the URL."""
        return next((recipe for recipe in self.recipes if recipe.matches(url)), None)


def recipes_folder(config_dir: Path) -> Path:
    return config_dir / "recipes"


def load_recipes(folder: Path) -> RecipeBook:
    """Every `*.toml` in the folder; a missing folder holds no recipes."""
    recipes: list[Recipe] = []
    problems: list[RecipeProblem] = []
    paths = sorted(path for path in folder.glob("*.toml") if not path.name.startswith("."))
    for path in paths:
        loaded = _load(path)
        if isinstance(loaded, Recipe):
            recipes.append(loaded)
        else:
            problems.append(RecipeProblem(path, f"{path.name}: {loaded}"))
    return RecipeBook(recipes, problems)


def _load(path: Path) -> Recipe | str:
    """The recipe in one file, or what is wrong with it."""
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        return "not UTF-8 text"
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    except tomllib.TOMLDecodeError as exc:
        return f"not valid TOML: {exc}"
    if "source" in data:
        return "unknown key `source`"
    try:
        return Recipe.model_validate({"name": path.stem, **data, "source": path})
    except ValidationError as exc:
        return "; ".join(_describe(error) for error in exc.errors(include_url=False))


def _describe(error: ErrorDetails) -> str:
    """One pydantic error as a person would say it: where, then what."""
    where = ".".join(str(part) for part in error["loc"])
    if error["type"] == "extra_forbidden":
        return f"unknown key `{where}`"
    if error["type"] == "missing":
        return f"`{where}` is required"
    if error["type"] == "value_error":
        return f"`{where}`: {error['ctx']['error']}" if where else str(error["ctx"]["error"])
    return f"`{where}`: {error['msg']}" if where else str(error["msg"])


def _host_fits(rule: str, host: str) -> bool:
    if rule.startswith("*."):
        domain = rule[2:]
        return host == domain or host.endswith("." + domain)
    return host == rule
