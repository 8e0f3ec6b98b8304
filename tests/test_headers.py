"""User agent, headers and cookies per domain: only the matching host gets them, hop by hop."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from core.cookies import load_cookies
from core.demo import LoopbackServer
from core.errors import SettingsError
from core.headers import check_domain_headers, headers_for
from core.settings import load_settings

from .conftest import HaulFactory, run_haul
from .test_downloads import add, blob, run_idle

BOTH = ("127.0.0.1", "127.0.0.2")
FUTURE = int(time.time()) + 86_400
COOKIES = "\n".join(
    [
        "# Netscape HTTP Cookie File",
        "# exported by a browser: tabs between the 7 fields",
        f"127.0.0.1\tFALSE\t/\tFALSE\t{FUTURE}\tsid\tsession-one",
        "#HttpOnly_127.0.0.1\tFALSE\t/\tFALSE\t0\thidden\tonly-http",
        f"127.0.0.1\tFALSE\t/private\tFALSE\t{FUTURE}\tdeep\tfor-private",
        f"127.0.0.1\tFALSE\t/\tTRUE\t{FUTURE}\tsecure\tnever-over-http",
        "127.0.0.1\tFALSE\t/\tFALSE\t1000000000\told\texpired-in-2001",
        "",
    ]
)


def cookie_names(header: str | None) -> set[str]:
    return {part.split("=", 1)[0].strip() for part in (header or "").split(";") if part.strip()}


# -- the rules on their own ---------------------------------------------------------------


def test_a_domain_rule_covers_its_subdomains_and_the_specific_one_wins() -> None:
    rules = check_domain_headers(
        {
            "*": {"X-Everyone": "1", "X-Level": "any"},
            ".Localhost": {"X-Level": "site", "X-Key": "k"},
            "cdn.localhost": {"X-Level": "cdn"},
        }
    )
    assert headers_for(rules, "http://localhost:8/a") == {
        "X-Everyone": "1",
        "X-Level": "site",
        "X-Key": "k",
    }
    assert headers_for(rules, "http://img.cdn.localhost/a")["X-Level"] == "cdn"
    assert headers_for(rules, "http://notlocalhost/a") == {"X-Everyone": "1", "X-Level": "any"}
    assert headers_for({}, "http://localhost/") == {}


@pytest.mark.parametrize(
    ("rules", "words"),
    [
        ({"localhost": {"Bad Name": "x"}}, "not a valid header name"),
        ({"localhost": {"Range": "bytes=0-"}}, "set by haul itself"),
        ({"localhost": {"Accept-Encoding": "gzip"}}, "set by haul itself"),
        ({"localhost": {"X-Key": "a\r\nInjected: yes"}}, "one line of text"),
        ({"local host": {"X-Key": "a"}}, "is not a domain"),
        ({"localhost": "X-Key: a"}, "table of name = value"),
        (["localhost"], "table of domains"),
    ],
)
def test_bad_header_rules_are_refused_with_the_reason(rules: object, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        check_domain_headers(rules)


def test_headers_come_from_a_toml_table_or_json_and_values_never_echo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[headers."localhost"]\nX-Api-Key = "from-file"\n')
    monkeypatch.setenv("HAUL_CONFIG", str(config))
    assert load_settings().headers == {"localhost": {"X-Api-Key": "from-file"}}
    monkeypatch.setenv("HAUL_HEADERS", '{"*": {"X-Api-Key": "from-env"}}')
    assert load_settings().headers == {"*": {"X-Api-Key": "from-env"}}
    monkeypatch.setenv("HAUL_HEADERS", '{"*": {"Authorization": "Bearer s3cret\\n"}}')
    with pytest.raises(SettingsError, match="HAUL_HEADERS") as bad:
        load_settings()
    assert "s3cret" not in str(bad.value)


def test_cookies_txt_is_read_leniently_and_bad_lines_are_named(tmp_path: Path) -> None:
    path = tmp_path / "cookies.txt"
    path.write_text(COOKIES.split("\n", 2)[2] + "\nlocalhost\tTRUE\t/\tFALSE\t0\tdomainwide\tv\n")
    jar = load_cookies(path)  # no magic first line: still read
    by_name = {cookie.name: cookie for cookie in jar}
    assert by_name["hidden"].has_nonstandard_attr("HttpOnly")
    assert by_name["hidden"].expires is None  # expiry 0: a session cookie, kept
    assert by_name["domainwide"].domain == ".localhost"  # TRUE without the dot
    path.write_text(COOKIES + "127.0.0.1\tFALSE\t/\n")
    with pytest.raises(ValueError, match=r"line 8: found 3 tab-separated fields") as bad:
        load_cookies(path)
    assert "session-one" not in str(bad.value)
    with pytest.raises(ValueError, match="cannot read the cookies file"):
        load_cookies(tmp_path / "absent.txt")


# -- the engine ------------------------------------------------------------------------


async def test_only_the_matching_host_gets_headers_and_cookies_even_across_redirects(
    make_haul: HaulFactory, server: LoopbackServer, other_host: LoopbackServer, tmp_path: Path
) -> None:
    cookies = tmp_path / "cookies.txt"
    cookies.write_text(COOKIES)
    haul = await make_haul(
        allow_hosts=BOTH,
        user_agent="haul-test/1",
        cookies_file=cookies,
        headers={"127.0.0.1": {"X-Api-Key": "k-1", "Authorization": "Bearer t-1"}},
    )
    server.add("/a.bin", blob(1000, 1))
    server.add("/private/p.bin", blob(1000, 2))
    server.add_redirect("/hop", other_host.url("/from-a.bin"))
    other_host.add("/b.bin", blob(1000, 3))
    other_host.add("/from-a.bin", blob(1000, 4))
    await add(
        haul,
        server.url("/a.bin"),
        server.url("/private/p.bin"),
        server.url("/hop"),
        other_host.url("/b.bin"),
    )

    assert await run_idle(haul) == 0

    assert len(await haul.library()) == 4
    mine = {record.path: record.headers for record in server.requests}
    assert mine["/a.bin"]["user-agent"] == "haul-test/1"
    assert mine["/a.bin"]["x-api-key"] == "k-1"
    assert mine["/a.bin"]["authorization"] == "Bearer t-1"
    assert cookie_names(mine["/a.bin"].get("cookie")) == {"sid", "hidden"}
    assert cookie_names(mine["/private/p.bin"].get("cookie")) == {"sid", "hidden", "deep"}
    assert "x-api-key" in mine["/hop"] and "cookie" in mine["/hop"]
    theirs = {record.path: record.headers for record in other_host.requests}
    assert set(theirs) == {"/b.bin", "/from-a.bin"}
    for headers in theirs.values():  # another host, typed or reached by a redirect
        assert headers["user-agent"] == "haul-test/1"
        assert not {"x-api-key", "authorization", "cookie"} & set(headers)


def test_a_bad_cookies_file_or_header_setting_stops_the_command_with_its_name(
    tmp_path: Path, server: LoopbackServer
) -> None:
    bad = tmp_path / "cookies.txt"
    bad.write_text("# Netscape HTTP Cookie File\n127.0.0.1 FALSE / FALSE 0 sid spaces-not-tabs\n")
    result = run_haul("add", server.url("/x.bin"), HAUL_COOKIES_FILE=str(bad))
    assert result.returncode == 2
    assert "HAUL_COOKIES_FILE" in result.stderr and "line 2" in result.stderr
    assert "spaces-not-tabs" not in result.stderr
    headers = json.dumps({"127.0.0.1": {"X-Api-Key": "top-secret\n"}})
    result = run_haul("run", "--until-idle", HAUL_HEADERS=headers)
    assert result.returncode == 2
    assert "HAUL_HEADERS" in result.stderr and "one line of text" in result.stderr
    assert "top-secret" not in result.stderr
    assert json.loads(run_haul("list", "--json").stdout) == []  # nothing was queued
