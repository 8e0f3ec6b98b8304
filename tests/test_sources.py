"""The door: every submitted line becomes a checked source key or a refusal with a reason.

Pure function tests: nothing here opens a socket, public addresses are only parsed.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from core.errors import InvalidSource
from core.guard import NetworkPolicy
from core.models import Kind
from core.sources import MAX_URL_LENGTH, check_url, judge, normalise_url, read_lines, split_lines

DATA = Path(__file__).parent / "data"
DEFAULT = NetworkPolicy()
OPEN = NetworkPolicy(allow_private=True)
LOOPBACK = NetworkPolicy(allow_hosts=("127.0.0.0/8", "::1"))
WHATWG_FAILURES = [
    entry["input"]
    for entry in json.loads((DATA / "whatwg_failures.json").read_text("utf-8"))["failures"]
]


def refusal_reason(line: str, policy: NetworkPolicy = DEFAULT) -> str:
    result = judge([line], policy, limit=10)
    assert not result.sources, f"{line!r} was accepted"
    assert len(result.refused) == 1
    return result.refused[0].reason


# --- accepted URLs and their keys -------------------------------------------------------


def test_a_plain_url_is_accepted_as_given_with_a_key() -> None:
    source = check_url("https://files.example.com/a/song.mp3", DEFAULT)
    assert source.given == "https://files.example.com/a/song.mp3"
    assert source.key == "https://files.example.com/a/song.mp3"
    assert source.kind is Kind.FILE


@pytest.mark.parametrize(
    ("given_url", "key"),
    [
        ("HTTP://Example.COM/Path/File.MP3", "http://example.com/Path/File.MP3"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("http://example.com:0080/a", "http://example.com/a"),
        ("https://example.com:80/a", "https://example.com:80/a"),
        ("http://example.com:8080/a", "http://example.com:8080/a"),
        ("https://example.com", "https://example.com/"),
        ("https://example.com?q=1", "https://example.com/?q=1"),
        ("https://example.com/a#part-2", "https://example.com/a"),
        ("https://example.com/a?b=C&a=1#x", "https://example.com/a?b=C&a=1"),
        ("https://example.com./a", "https://example.com/a"),
        ("https://example.com/a%2Fb%2fc", "https://example.com/a%2Fb%2fc"),
        ("https://example.com//double//slash/", "https://example.com//double//slash/"),
        ("https://example.com/a/../b/./c", "https://example.com/a/../b/./c"),
        ("https://example.com/?", "https://example.com/"),
        ("https://bücher.example/ä", "https://xn--bcher-kva.example/ä"),
        ("https://[::1]:443/x", "https://[::1]/x"),
        ("http://127.0.0.1:8000/x", "http://127.0.0.1:8000/x"),
    ],
)
def test_keys_normalise_scheme_host_port_and_fragment_only(given_url: str, key: str) -> None:
    assert check_url(given_url, LOOPBACK).key == key
    assert normalise_url(key) == key


def test_path_and_query_case_make_different_keys() -> None:
    keys = {
        check_url(url, DEFAULT).key
        for url in (
            "https://example.com/File?Q=1",
            "https://example.com/file?Q=1",
            "https://example.com/File?q=1",
            "https://example.com/File?Q=1&",
        )
    }
    assert len(keys) == 4


@pytest.mark.parametrize("bad", ["http://", "http://:80/", "https://host:99999/", "not a url"])
def test_normalise_url_raises_invalid_source_for_unusable_urls(bad: str) -> None:
    with pytest.raises(InvalidSource):
        normalise_url(bad)


# --- refusals, each with its reason -----------------------------------------------------


@pytest.mark.parametrize("scheme", ["ftp", "FTP", "javascript", "data", "gopher"])
def test_other_schemes_are_refused_naming_the_scheme(scheme: str) -> None:
    reason = refusal_reason(f"{scheme}://example.com/a.bin")
    assert repr(scheme.lower()) in reason
    assert "http" in reason


def test_overlong_url_is_refused_naming_the_limit() -> None:
    prefix = "https://example.com/"
    at_limit = prefix + "a" * (MAX_URL_LENGTH - len(prefix))
    assert check_url(at_limit, DEFAULT).key == at_limit
    reason = refusal_reason(at_limit + "a")
    assert str(MAX_URL_LENGTH) in reason
    assert str(MAX_URL_LENGTH + 1) in reason


@pytest.mark.parametrize(
    "line",
    [
        "https://user:pass@example.com/a",
        "https://user@example.com/a",
        "https://:secret@example.com/a",
        "https://@example.com/a",
    ],
)
def test_userinfo_is_refused_and_never_echoed(line: str) -> None:
    result = judge([line], DEFAULT, limit=10)
    assert not result.sources
    (refusal,) = result.refused
    assert "user:pass@" in refusal.reason
    assert "secret" not in refusal.given + refusal.reason
    assert "pass@" not in refusal.given


@pytest.mark.parametrize(
    "line", ["http:///a", "https://", "http://:8080/a", "https://?q", "http://#"]
)
def test_urls_without_a_host_are_refused(line: str) -> None:
    assert refusal_reason(line)


@pytest.mark.parametrize(
    "line",
    [
        "https://example.com/a b.mp3",
        "https://exa mple.com/",
        "https://example.com/a\tb",
        "https://example.com/\x00",
        "https://example.com/\x7f",
        "https://example.com/\x1b[31m",
    ],
)
def test_spaces_and_control_characters_are_refused(line: str) -> None:
    assert "spaces or control characters" in refusal_reason(line)


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("example.com/file.mp3", "http://"),
        ("www.example.com", "http://"),
        ("http:example.com", "http://"),
        ("//example.com/a", "http:// or https:// in front"),
        ("./file.mp3", "relative path"),
        ("../file.mp3", "relative path"),
        ("file.mp3", "absolute path"),
    ],
)
def test_relative_and_schemeless_lines_are_refused(line: str, words: str) -> None:
    assert words in refusal_reason(line)


@pytest.mark.parametrize(
    "line",
    [
        "http://127.0.0.1/",
        "http://127.0.0.1:8080/x",
        "http://localhost/",
        "http://LOCALHOST:3000/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:7f00:1]/",
        "http://127.0.0.2:8080/x",
    ],
)
def test_non_public_targets_are_refused_by_default_and_allowed_with_consent(line: str) -> None:
    """Loopback forms only; every other class (private, link-local, CGNAT, metadata…) is
    judged on addresses in test_guard.py, never written here as a URL."""
    reason = refusal_reason(line)
    assert reason.startswith("refused target")
    assert "HAUL_ALLOW_PRIVATE_NETWORKS" in reason
    assert check_url(line, OPEN).kind is Kind.FILE


@pytest.mark.parametrize(
    "line",
    [
        "http://2130706433/",  # 127.0.0.1 as one number
        "http://0x7f000001/",
        "http://0x7f.0.0.1/",
        "http://0177.0.0.1/",  # octal
        "http://127.1/",
        "http://127.0.1/",
        "http://017700000001/",
        "http://127.0.257/",  # three parts: 127.0.1.1
    ],
)
def test_other_spellings_of_an_ipv4_address_are_refused(line: str) -> None:
    """getaddrinfo reads these as loopback or link-local; they must not slip past as names."""
    assert "IPv4" in refusal_reason(line, OPEN)


def test_allow_hosts_with_a_name_an_address_and_a_cidr() -> None:
    policy = NetworkPolicy(allow_hosts=("localhost", "127.0.2.3", "127.0.0.0/24"))
    assert check_url("http://localhost:8000/a", policy).key == "http://localhost:8000/a"
    assert check_url("http://127.0.2.3/a", policy).key == "http://127.0.2.3/a"
    assert check_url("http://127.0.0.1/a", policy).key == "http://127.0.0.1/a"
    assert check_url("http://127.0.0.200/a", policy).key == "http://127.0.0.200/a"
    for outside in ("http://127.0.1.5/a", "http://127.0.2.4/a", "http://[::1]/a"):
        with pytest.raises(InvalidSource, match="HAUL_ALLOW_PRIVATE_NETWORKS"):
            check_url(outside, policy)


# --- judging a whole submission ---------------------------------------------------------


def test_read_lines_strips_and_drops_blanks_and_comments() -> None:
    lines = ["", "   ", "# a comment", "  https://a.example/1  ", "\t#also\t", "x # not a comment"]
    assert read_lines(lines) == ["https://a.example/1", "x # not a comment"]


def test_judge_ignores_blanks_and_comments_and_keeps_the_rest() -> None:
    lines = [
        "# my list",
        "",
        "https://a.example/1",
        "   ",
        "ftp://a.example/2",
        "https://a.example/3",
    ]
    result = judge(lines, DEFAULT, limit=100)
    assert [s.key for s in result.sources] == ["https://a.example/1", "https://a.example/3"]
    assert [r.given for r in result.refused] == ["ftp://a.example/2"]
    assert result.repeats == []


def test_lines_beyond_the_batch_limit_are_refused_and_the_first_n_accepted() -> None:
    lines = [f"https://a.example/{n}" for n in range(7)]
    result = judge(lines, DEFAULT, limit=4)
    assert [s.given for s in result.sources] == lines[:4]
    assert [r.given for r in result.refused] == lines[4:]
    for refusal in result.refused:
        assert "batch limit of 4" in refusal.reason


def test_batch_limit_counts_refused_lines_too() -> None:
    result = judge(["nope", "https://a.example/1", "https://a.example/2"], DEFAULT, limit=2)
    assert [s.given for s in result.sources] == ["https://a.example/1"]
    assert len(result.refused) == 2
    assert "batch limit" in result.refused[1].reason


def test_repeats_within_a_submission_are_reported_once_each() -> None:
    lines = [
        "https://a.example/x",
        "HTTPS://A.EXAMPLE:443/x#top",
        "https://a.example/X",
        "https://a.example/x",
    ]
    result = judge(lines, DEFAULT, limit=100)
    assert [s.given for s in result.sources] == ["https://a.example/x", "https://a.example/X"]
    assert [s.given for s in result.repeats] == [
        "HTTPS://A.EXAMPLE:443/x#top",
        "https://a.example/x",
    ]
    assert {s.key for s in result.repeats} == {"https://a.example/x"}


def test_refused_lines_are_shown_redacted() -> None:
    result = judge(["ftp://a.example/f?token=hunter2"], DEFAULT, limit=10)
    (refusal,) = result.refused
    assert "hunter2" not in refusal.given
    assert refusal.given.startswith("ftp://a.example/f?token=")


# --- the WHATWG URL test data -----------------------------------------------------------


def test_fixture_holds_enough_whatwg_failures() -> None:
    assert len(WHATWG_FAILURES) >= 40


@pytest.mark.parametrize("policy", [DEFAULT, OPEN], ids=["default", "allow-private"])
def test_every_whatwg_failure_is_refused_with_a_reason(policy: NetworkPolicy) -> None:
    accepted = []
    for line in WHATWG_FAILURES:
        result = judge([line], policy, limit=10)
        if result.sources or result.repeats:
            accepted.append(line)
        for refusal in result.refused:
            assert refusal.reason.strip(), line
    assert accepted == []


# --- properties -------------------------------------------------------------------------

SCHEMES = st.sampled_from(
    ["http", "https", "HTTP", "HtTpS", "ftp", "file", "javascript", "ws", "", "h\u00e9", "ht tp"]
)
HOSTS = st.one_of(
    st.sampled_from(
        [
            "example.com",
            "EXAMPLE.com",
            "example.com.",
            "localhost",
            "127.0.0.1",
            "[::1]",
            "[::ffff:127.0.0.1]",
            "bücher.example",
            "xn--bcher-kva.example",
            "xn--",
            "a..b",
            "-a-.example",
            "[fe80::1%25eth0]",
            "[not-v6]",
            "",
        ]
    ),
    st.from_regex(r"\A[a-zA-Z0-9-]{1,12}(\.[a-zA-Z0-9-]{1,12}){0,3}\.?\Z"),
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(lambda a: f"[{a}]"),
    st.text(max_size=15),
)
PORTS = st.one_of(
    st.just(""),
    st.integers(min_value=-5, max_value=70_000).map(lambda p: f":{p}"),
    st.text(alphabet="0123456789:ab ", max_size=6).map(lambda p: f":{p}"),
)
USERINFO = st.sampled_from(["", "", "", "user@", "user:pass@", ":@", "a@b@"])
SEGMENT = st.text(
    alphabet=st.one_of(
        st.sampled_from("abcXYZ019-._~%2F!$&'()*+,;=:@/\\ \t\x00\x7fé€😀"),
        st.characters(),
    ),
    max_size=20,
)
PATHS = st.one_of(st.just(""), SEGMENT.map(lambda s: "/" + s))
QUERIES = st.one_of(st.just(""), SEGMENT.map(lambda s: "?" + s))
FRAGMENTS = st.one_of(st.just(""), SEGMENT.map(lambda s: "#" + s))
SEPARATORS = st.sampled_from(["://", "://", "://", ":/", ":", ":///", "//"])


@st.composite
def url_like(draw: st.DrawFn) -> str:
    return "".join(
        draw(part)
        for part in (SCHEMES, SEPARATORS, USERINFO, HOSTS, PORTS, PATHS, QUERIES, FRAGMENTS)
    )


VISIBLE = st.text(
    alphabet=st.one_of(
        st.sampled_from("abcXYZ019-._~%2F!$&'()*+,;=:@/?é€😀"),
        st.characters(exclude_categories=("Cc", "Cs", "Zs", "Zl", "Zp")),
    ),
    max_size=20,
)


@st.composite
def plausible_url(draw: st.DrawFn) -> str:
    """Mostly URLs check_url accepts, so the properties of keys get exercised."""
    scheme = draw(st.sampled_from(["http", "https", "HTTP", "Https"]))
    host = draw(st.one_of(HOSTS.filter(lambda h: h.isascii()), st.sampled_from(["bücher.example"])))
    port = draw(st.one_of(st.just(""), st.integers(0, 65_535).map(lambda p: f":{p}")))
    path = draw(st.one_of(st.just(""), VISIBLE.map(lambda s: "/" + s)))
    query = draw(st.one_of(st.just(""), VISIBLE.map(lambda s: "?" + s)))
    fragment = draw(st.one_of(st.just(""), VISIBLE.map(lambda s: "#" + s)))
    return f"{scheme}://{host}{port}{path}{query}{fragment}"


LINES = st.lists(st.one_of(url_like(), plausible_url(), st.text()), max_size=6)
POLICIES = st.sampled_from([DEFAULT, OPEN, NetworkPolicy(allow_hosts=("127.0.0.0/8", "[::1]"))])


@settings(max_examples=150, deadline=None)
@given(LINES, POLICIES, st.integers(min_value=1, max_value=10))
def test_judge_never_raises_and_explains_every_refusal(
    lines: list[str], policy: NetworkPolicy, limit: int
) -> None:
    result = judge(lines, policy, limit)
    for refusal in result.refused:
        assert isinstance(refusal.reason, str)
        assert refusal.reason.strip()
    judged = len(result.sources) + len(result.refused) + len(result.repeats)
    assert judged == len(read_lines(lines))
    assert len(result.sources) + len(result.repeats) <= limit
    assert len({s.key for s in result.sources}) == len(result.sources)


@settings(max_examples=200, deadline=None)
@given(st.one_of(url_like(), plausible_url()))
def test_normalising_an_accepted_url_twice_changes_nothing(line: str) -> None:
    try:
        source = check_url(line, OPEN)
    except InvalidSource as exc:
        assert str(exc).strip()
        return
    assert normalise_url(source.key) == source.key
    assert check_url(source.key, OPEN).key == source.key
    assert source.key.startswith(("http://", "https://"))
    assert "#" not in source.key


ASCII_HOST = st.from_regex(r"\A[a-z][a-z0-9-]{0,10}(\.[a-z][a-z0-9-]{0,10}){0,2}\Z")
SAFE_TEXT = st.text(
    alphabet=st.sampled_from("abcABC019-._~%!$&'()*+,;=:@/é€"),
    max_size=20,
)


@given(
    st.sampled_from(["http", "https"]),
    ASCII_HOST,
    st.one_of(st.none(), st.integers(min_value=1, max_value=65_535)),
    SAFE_TEXT,
    SAFE_TEXT,
    SAFE_TEXT,
    st.randoms(use_true_random=False),
)
def test_key_ignores_case_in_scheme_and_host_and_keeps_path_and_query_exactly(
    scheme: str,
    host: str,
    port: int | None,
    path: str,
    query: str,
    fragment: str,
    rng: random.Random,
) -> None:
    def mixed_case(text: str) -> str:
        return "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in text)

    port_text = "" if port is None else f":{port}"
    line = f"{mixed_case(scheme)}://{mixed_case(host)}{port_text}/{path}?{query}#{fragment}"
    assume(len(line) <= MAX_URL_LENGTH)
    key = check_url(line, OPEN).key
    default = {"http": 80, "https": 443}[scheme]
    shown_port = "" if port in (None, default) else f":{port}"
    expected_query = f"?{query}" if query else ""
    assert key == f"{scheme}://{host}{shown_port}/{path}{expected_query}"
    assert key == check_url(f"{scheme}://{host}{port_text}/{path}?{query}", OPEN).key


@given(
    scheme=st.sampled_from(["http", "https", "HTTP", "hTTps"]),
    host=st.from_regex(
        r"[A-Za-z0-9]([A-Za-z0-9-]{0,8}[A-Za-z0-9])?(\.[A-Za-z0-9]{1,6}){0,3}", fullmatch=True
    ),
    port=st.one_of(st.none(), st.integers(0, 70000)),
    path=st.from_regex(r"(/[A-Za-z0-9%._~!$&'()*+,;=:@-]{0,8}){0,3}", fullmatch=True),
    query=st.one_of(st.none(), st.from_regex(r"[A-Za-z0-9=&%]{0,10}", fullmatch=True)),
    fragment=st.one_of(st.none(), st.from_regex(r"[A-Za-z0-9]{0,5}", fullmatch=True)),
)
def test_the_fast_path_judges_exactly_like_the_general_one(
    scheme: str,
    host: str,
    port: int | None,
    path: str,
    query: str | None,
    fragment: str | None,
) -> None:
    url = f"{scheme}://{host}{'' if port is None else f':{port}'}{path}"
    url += "" if query is None else f"?{query}"
    url += "" if fragment is None else f"#{fragment}"
    policy = NetworkPolicy(allow_private=False)
    outcomes = []
    for hosts in ({}, None):
        try:
            outcomes.append(check_url(url, policy, hosts).key)
        except InvalidSource as exc:
            outcomes.append(f"refused: {exc}")
    assert outcomes[0] == outcomes[1]


def test_pasted_text_splits_at_newlines_only() -> None:
    text = "http://127.0.0.1/x\u2028y\r\nhttp://127.0.0.1/\x1cz\rlast"
    assert split_lines(text) == ["http://127.0.0.1/x\u2028y", "http://127.0.0.1/\x1cz", "last"]
