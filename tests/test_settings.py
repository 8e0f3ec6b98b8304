"""Settings: TOML file < HAUL_* environment < flags; a bad value names the setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import SettingsError
from core.models import Stage
from core.settings import config_file, load_settings


@pytest.fixture
def config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A settings file of this test's own; no real user config or variable leaks in."""
    path = tmp_path / "config.toml"
    monkeypatch.setenv("HAUL_CONFIG", str(path))
    for name in (
        "MAX_CONCURRENT_DOWNLOADS",
        "HAUL_MAX_CONCURRENT_DOWNLOADS",
        "HAUL_SCRAPE_CAP",
        "HAUL_EXTRACT_CAP",
        "HAUL_IMPORT_CAP",
        "HAUL_ALLOW_HOSTS",
        "HAUL_ALLOW_PRIVATE_NETWORKS",
    ):
        monkeypatch.delenv(name, raising=False)
    return path


def test_config_file_follows_haul_config(config: Path) -> None:
    assert config_file() == config


def test_defaults_without_a_file(config: Path) -> None:
    assert not config.exists()
    settings = load_settings()
    assert settings.max_concurrent_downloads == 3
    assert settings.default_caps() == {
        Stage.SCRAPE: 2,
        Stage.EXTRACT: 4,
        Stage.DOWNLOAD: 3,
        Stage.IMPORT: 2,
    }
    assert settings.allow_private_networks is False
    assert settings.allow_hosts == ()


def test_file_then_environment_then_flags(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config.write_text("scrape_cap = 7\nextract_cap = 6\nimport_cap = 5\n")
    monkeypatch.setenv("HAUL_EXTRACT_CAP", "8")
    monkeypatch.setenv("HAUL_IMPORT_CAP", "9")
    settings = load_settings(import_cap=10, scrape_cap=None)
    assert settings.scrape_cap == 7  # file only (a None flag means "not given")
    assert settings.extract_cap == 8  # environment over file
    assert settings.import_cap == 10  # flag over environment over file


def test_max_concurrent_downloads_from_file_env_and_flag(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config.write_text("max_concurrent_downloads = 5\n")
    assert load_settings().max_concurrent_downloads == 5
    monkeypatch.setenv("MAX_CONCURRENT_DOWNLOADS", "6")
    assert load_settings().max_concurrent_downloads == 6
    monkeypatch.setenv("HAUL_MAX_CONCURRENT_DOWNLOADS", "7")
    assert load_settings().max_concurrent_downloads == 7  # the HAUL_ name wins
    assert load_settings(max_concurrent_downloads=8).max_concurrent_downloads == 8
    assert load_settings().default_caps()[Stage.DOWNLOAD] == 7


def test_plain_max_concurrent_downloads_alone(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAX_CONCURRENT_DOWNLOADS", "12")
    assert load_settings().max_concurrent_downloads == 12


def test_allow_hosts_is_a_comma_list(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HAUL_ALLOW_HOSTS", " media.lan, 127.0.0.0/24 ,,[::1] ")
    settings = load_settings()
    assert settings.allow_hosts == ("media.lan", "127.0.0.0/24", "[::1]")
    policy = settings.network_policy
    assert policy.refuse_host("media.lan") is None
    assert policy.refuse_host("127.0.0.1") is None
    assert policy.refuse_host("[::1]") is None
    assert policy.refuse_host("127.0.1.5") is not None


def test_allow_hosts_from_the_file_is_a_list(config: Path) -> None:
    config.write_text('allow_hosts = ["a.lan", "10.0.0.0/8"]\n')
    assert load_settings().allow_hosts == ("a.lan", "10.0.0.0/8")


@pytest.mark.parametrize(("raw", "expected"), [("1", True), ("true", True), ("0", False)])
def test_allow_private_networks_from_the_environment(
    config: Path, monkeypatch: pytest.MonkeyPatch, raw: str, expected: bool
) -> None:
    monkeypatch.setenv("HAUL_ALLOW_PRIVATE_NETWORKS", raw)
    settings = load_settings()
    assert settings.allow_private_networks is expected
    assert (settings.network_policy.refuse_host("127.0.0.1") is None) is expected


def test_home_places_the_database_and_library(
    config: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HAUL_HOME", str(tmp_path / "h"))
    settings = load_settings()
    assert settings.database_path == tmp_path / "h" / "haul.db"
    assert settings.library_dir == tmp_path / "h" / "library"
    assert settings.partial_dir == tmp_path / "h" / "partial"


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("HAUL_SCRAPE_CAP", "zero", "scrape_cap"),
        ("HAUL_SCRAPE_CAP", "0", "scrape_cap"),
        ("HAUL_MAX_CONCURRENT_DOWNLOADS", "0", "MAX_CONCURRENT_DOWNLOADS"),
        ("MAX_CONCURRENT_DOWNLOADS", "lots", "MAX_CONCURRENT_DOWNLOADS"),
        ("HAUL_ALLOW_PRIVATE_NETWORKS", "maybe", "allow_private_networks"),
        ("HAUL_BACKOFF_BASE_SECONDS", "-1", "backoff_base_seconds"),
    ],
)
def test_a_bad_environment_value_names_the_setting(
    config: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, named: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert named.lower() in message.lower()
    assert repr(value) in message


def test_a_bad_flag_names_the_setting(config: Path) -> None:
    with pytest.raises(SettingsError, match="read_timeout_seconds"):
        load_settings(read_timeout_seconds=0)


def test_an_unknown_setting_in_the_file_is_named(config: Path) -> None:
    config.write_text("max_concurent_downloads = 4\n")
    with pytest.raises(SettingsError, match="max_concurent_downloads"):
        load_settings()


def test_a_bad_value_in_the_file_names_the_setting(config: Path) -> None:
    config.write_text('extract_cap = "many"\n')
    with pytest.raises(SettingsError, match="extract_cap"):
        load_settings()


def test_a_file_that_is_not_toml_names_the_file(config: Path) -> None:
    config.write_text("max_concurrent_downloads = = 3\n[broken\n")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert str(config) in str(caught.value)


def test_a_file_that_is_not_utf8_names_the_file(config: Path) -> None:
    config.write_bytes(b'user_agent = "\xff\xfe"\n')
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert str(config) in str(caught.value)


def test_acquisition_settings_default_and_parse(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load_settings()
    assert settings.local_mode == "copy"
    assert settings.local_allowed_types == ()
    assert settings.library_layout == "{host}/{name}"
    assert settings.thumbnail_max_bytes == 64 * 1024 * 1024
    monkeypatch.setenv("HAUL_LOCAL_ALLOWED_TYPES", " audio/*, Image/PNG ,, ")
    monkeypatch.setenv("HAUL_LOCAL_MODE", "link")
    monkeypatch.setenv("HAUL_LIBRARY_LAYOUT", "{type}/{year}/{name}")
    settings = load_settings()
    assert settings.local_allowed_types == ("audio/*", "image/png")
    assert settings.local_rules.allowed_types == ("audio/*", "image/png")
    assert settings.local_mode == "link" and settings.library_layout == "{type}/{year}/{name}"


def test_layout_and_types_from_the_file(config: Path) -> None:
    config.write_text(
        'library_layout = "{host}/{date}/{name}"\nlocal_allowed_types = ["video/*"]\n'
    )
    settings = load_settings()
    assert settings.library_layout == "{host}/{date}/{name}"
    assert settings.local_allowed_types == ("video/*",)


@pytest.mark.parametrize(
    ("variable", "value", "words"),
    [
        ("HAUL_LIBRARY_LAYOUT", "/srv/{name}", "relative to the library"),
        ("HAUL_LIBRARY_LAYOUT", "{host}/../{name}", "may not use . or .."),
        ("HAUL_LIBRARY_LAYOUT", "", "empty"),
        ("HAUL_LOCAL_ALLOWED_TYPES", "audio", "not a MIME type"),
        ("HAUL_LOCAL_MODE", "symlink", "copy"),
    ],
)
def test_bad_acquisition_settings_are_named(
    config: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, words: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert variable in str(caught.value) and words in str(caught.value)
