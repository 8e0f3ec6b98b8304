"""Settings from a TOML file, HAUL_* environment variables and flags, in rising precedence."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import platformdirs
from pydantic import AliasChoices, ByteSize, Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from .cookies import load_cookies
from .errors import SettingsError
from .guard import NetworkPolicy
from .headers import DomainHeaders, check_domain_headers
from .layout import DEFAULT_LAYOUT, check_layout
from .local import LocalRules
from .models import Stage
from .speed import MAX_SPEED

_MIME_PATTERN = re.compile(r"^(?:\*|[a-z0-9][a-z0-9!#$&^_.+-]*)/(?:\*|[a-z0-9][a-z0-9!#$&^_.+-]*)$")


def config_file() -> Path:
    """The TOML settings file: HAUL_CONFIG, else config.toml in the user config dir."""
    explicit = os.environ.get("HAUL_CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    return Path(platformdirs.user_config_dir("haul")) / "config.toml"


def _default_home() -> Path:
    return Path(platformdirs.user_data_dir("haul"))


class Settings(BaseSettings):
    """Everything a person may tune; names match the HAUL_* variables in the README."""

    model_config = SettingsConfigDict(
        env_prefix="HAUL_", extra="forbid", validate_default=True, populate_by_name=True
    )

    home: Path = Field(default_factory=_default_home)
    max_concurrent_downloads: int = Field(
        default=3,
        ge=1,
        le=256,
        validation_alias=AliasChoices(
            "HAUL_MAX_CONCURRENT_DOWNLOADS",
            "MAX_CONCURRENT_DOWNLOADS",
        ),
    )
    scrape_cap: int = Field(default=2, ge=1, le=256)
    extract_cap: int = Field(default=4, ge=1, le=256)
    import_cap: int = Field(default=2, ge=1, le=256)
    max_attempts: int = Field(default=5, ge=1, le=100)
    backoff_base_seconds: float = Field(default=2.0, ge=0, le=3600)
    backoff_max_seconds: float = Field(default=600.0, ge=0, le=86400)
    batch_limit: int = Field(default=10000, ge=1, le=10_000_000)
    allow_private_networks: bool = False
    allow_hosts: Annotated[tuple[str, ...], NoDecode] = ()
    connect_timeout_seconds: float = Field(default=15.0, gt=0, le=600)
    read_timeout_seconds: float = Field(default=30.0, gt=0, le=3600)
    user_agent: str = "haul/0.1 (+https://github.com/haul)"
    max_redirects: int = Field(default=10, ge=0, le=30)
    # Sizes take a unit ("100MB", "1.5GiB") or plain bytes; 0 means no limit.
    max_file_size: ByteSize = Field(default=ByteSize(0), ge=0)
    # A transfer slower than min_speed bytes/s over min_speed_seconds is retried (0: off).
    min_speed: ByteSize = Field(default=ByteSize(0), ge=0)
    min_speed_seconds: float = Field(default=30.0, gt=0, le=3600)
    page_max_bytes: ByteSize = Field(default=ByteSize(2 * 1024 * 1024), ge=1024, le=1 << 30)
    cover_max_bytes: ByteSize = Field(default=ByteSize(10 * 1024 * 1024), ge=1024, le=1 << 30)
    listing_page_limit: int = Field(default=50, ge=1, le=10_000)
    same_site_only: bool = True
    recipes_dir: Path | None = None
    bell: bool = False  # the TUI rings the terminal bell when a batch ends or an item fails
    checkpoint_seconds: float = Field(default=1.0, gt=0, le=60)
    poll_seconds: float = Field(default=0.25, gt=0, le=5)
    # Acquisition (issue 5): local files, where the library files things, thumbnails.
    local_mode: Literal["copy", "move", "link"] = "copy"  # link: a hard link, else a copy
    local_allowed_types: Annotated[tuple[str, ...], NoDecode] = ()  # "audio/*,image/png"
    library_layout: str = DEFAULT_LAYOUT  # folders under library/: {host}/{type}/{name}…
    thumbnail_max_bytes: ByteSize = Field(default=ByteSize(64 * 1024 * 1024), ge=1024)

    # Politeness and control. Per host, across every lane and redirect hop: at most
    # per_host_cap requests at once (6, what a browser opens to one site over HTTP/1.1)
    # and at most per_host_rate request starts a second (0: no pacing). speed_limit is
    # bytes/s shared by all downloads (0: none; `haul limit` changes it while running).
    # headers: {domain: {name: value}}, a domain covering its subdomains and "*" every
    # host. cookies_file: a Netscape cookies.txt. proxy: http(s):// only, never from the
    # environment (HTTP_PROXY and friends are ignored).
    per_host_cap: int = Field(default=6, ge=1, le=256)
    per_host_rate: float = Field(default=0.0, ge=0, le=1000)
    speed_limit: ByteSize = Field(default=ByteSize(0), ge=0, le=MAX_SPEED)
    headers: Annotated[DomainHeaders, NoDecode] = Field(default_factory=dict)
    cookies_file: Path | None = None
    proxy: str | None = None

    @field_validator("allow_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("local_allowed_types", mode="before")
    @classmethod
    def _split_types(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [part for part in value.split(",") if part.strip()]
        if isinstance(value, list | tuple):
            types = tuple(str(part).strip().lower() for part in value)
            for pattern in types:
                if not _MIME_PATTERN.match(pattern):
                    raise ValueError(
                        f"{pattern!r} is not a MIME type or pattern such as audio/* or image/png"
                    )
            return types
        return value

    @field_validator("library_layout")
    @classmethod
    def _check_layout(cls, value: str) -> str:
        return check_layout(value)

    @field_validator("headers", mode="before")
    @classmethod
    def _check_headers(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                value = json.loads(value) if value.strip() else {}
            except json.JSONDecodeError:
                raise ValueError(
                    'expected JSON like {"site.example": {"X-Api-Key": "..."}}'
                ) from None
        return check_domain_headers(value)

    @field_validator("cookies_file")
    @classmethod
    def _check_cookies(cls, value: Path | None) -> Path | None:
        if value is None or not str(value).strip():
            return None
        path = value.expanduser()
        load_cookies(path)
        return path

    @field_validator("proxy")
    @classmethod
    def _check_proxy(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https"):
            raise ValueError(
                "only http:// and https:// proxies are supported (not socks), "
                "like http://127.0.0.1:3128"
            )
        if not parts.hostname or parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ValueError("a proxy is scheme://host:port, with no path")
        _ = parts.port  # a bad port raises ValueError here
        return value.strip()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=config_file()),
        )

    @property
    def database_path(self) -> Path:
        return self.home / "haul.db"

    @property
    def library_dir(self) -> Path:
        return self.home / "library"

    @property
    def partial_dir(self) -> Path:
        return self.home / "partial"

    @property
    def thumbnail_dir(self) -> Path:
        return self.home / "thumbnails"

    @property
    def recipes_folder(self) -> Path:
        """recipes/*.toml beside the settings file, unless HAUL_RECIPES_DIR says otherwise."""
        return self.recipes_dir or config_file().parent / "recipes"

    @property
    def network_policy(self) -> NetworkPolicy:
        return NetworkPolicy.from_settings(self.allow_private_networks, self.allow_hosts)

    @property
    def local_rules(self) -> LocalRules:
        return LocalRules(int(self.max_file_size), self.local_allowed_types)

    def default_caps(self) -> dict[Stage, int]:
        return {
            Stage.SCRAPE: self.scrape_cap,
            Stage.EXTRACT: self.extract_cap,
            Stage.DOWNLOAD: self.max_concurrent_downloads,
            Stage.IMPORT: self.import_cap,
        }


# Their values may hold credentials: an error names the setting but never repeats them.
_HIDDEN_INPUTS = frozenset({"headers", "proxy"})


def load_settings(**flags: Any) -> Settings:
    """Settings with flags on top; raise SettingsError that names the bad setting."""
    given = {name: value for name, value in flags.items() if value is not None}
    try:
        return Settings(**given)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = ".".join(str(part) for part in error["loc"]) or "settings"
            field = str(error["loc"][0]) if error["loc"] else ""
            if field in Settings.model_fields:
                name = f"HAUL_{field.upper()} ({name})"
            shown = "(value hidden)" if field in _HIDDEN_INPUTS else f"(got {error.get('input')!r})"
            problems.append(f"{name}: {error['msg']} {shown}")
        raise SettingsError("bad setting — " + "; ".join(problems)) from exc
    except (OSError, ValueError) as exc:
        raise SettingsError(f"cannot read the settings file {config_file()}: {exc}") from exc
