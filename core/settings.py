"""Settings from a TOML file, HAUL_* environment variables and flags, in rising precedence."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import platformdirs
from pydantic import AliasChoices, ByteSize, Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from .errors import SettingsError
from .guard import NetworkPolicy
from .layout import DEFAULT_LAYOUT, check_layout
from .local import LocalRules
from .models import Stage

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


def load_settings(**flags: Any) -> Settings:
    """Settings with flags on top; raise SettingsError that names the bad setting."""
    given = {name: value for name, value in flags.items() if value is not None}
    try:
        return Settings(**given)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = ".".join(str(part) for part in error["loc"]) or "settings"
            if name in Settings.model_fields:
                name = f"HAUL_{name.upper()} ({name})"
            problems.append(f"{name}: {error['msg']} (got {error.get('input')!r})")
        raise SettingsError("bad setting — " + "; ".join(problems)) from exc
    except (OSError, ValueError) as exc:
        raise SettingsError(f"cannot read the settings file {config_file()}: {exc}") from exc
