"""Secrets stay out of logs: userinfo and sensitive query values are masked, the rest kept."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from core.redact import MASK, is_sensitive_name, redact_text, redact_url


def test_userinfo_is_masked_and_the_host_kept() -> None:
    redacted = redact_url("https://alice:hunter2@files.example.com:8443/a.mp3?page=2#t")
    assert redacted == f"https://{MASK}@files.example.com:8443/a.mp3?page=2#t"


def test_a_user_name_alone_is_masked_too() -> None:
    assert redact_url("https://alice@files.example.com/") == f"https://{MASK}@files.example.com/"


@pytest.mark.parametrize(
    "name",
    [
        "token",
        "TOKEN",
        "access_token",
        "refresh-token",
        "key",
        "api_key",
        "apiKey",
        "API-KEY",
        "sig",
        "Signature",
        "password",
        "Password",
        "X-Amz-Signature",
        "X-AMZ-SIGNATURE",
        "x-amz-credential",
        "X-Amz-Security-Token",
        "X-Goog-Signature",
        "x-goog-credential",
        "client_secret",
    ],
)
def test_sensitive_query_values_are_masked_case_insensitively(name: str) -> None:
    url = f"https://cdn.example/f.bin?page=2&{name}=s3cr3tV4lue&format=mp3"
    redacted = redact_url(url)
    assert "s3cr3tV4lue" not in redacted
    assert redacted == f"https://cdn.example/f.bin?page=2&{name}={MASK}&format=mp3"
    assert is_sensitive_name(name)


@pytest.mark.parametrize(
    "name", ["page", "id", "format", "q", "sort", "size", "monkey", "keyword", "title"]
)
def test_ordinary_query_names_are_not_sensitive(name: str) -> None:
    assert not is_sensitive_name(name)


def test_urls_without_secrets_come_back_unchanged() -> None:
    url = "https://Example.com/Path%2Fx/?q=Hello+World&page=2&&flag#Frag"
    assert redact_url(url) == url


def test_empty_sensitive_values_and_bare_names_are_left_alone() -> None:
    assert redact_url("https://h/?token=&sig&x=1") == "https://h/?token=&sig&x=1"


def test_path_and_fragment_are_kept_when_a_value_is_masked() -> None:
    redacted = redact_url("https://h/a%20b/c?token=abc#frag")
    assert redacted == f"https://h/a%20b/c?token={MASK}#frag"


def test_unparseable_url_still_loses_its_userinfo() -> None:
    redacted = redact_url("http://bob:pw123@[not-an-ipv6/x")
    assert "pw123" not in redacted
    assert "bob" not in redacted


def test_redact_text_finds_urls_inside_sentences() -> None:
    text = (
        "download failed for https://cdn.example/a.mp3?X-Amz-Signature=deadbeef&part=1 "
        "(status 403); also tried http://bob:pw123@mirror.example/a.mp3, giving up"
    )
    redacted = redact_text(text)
    assert "deadbeef" not in redacted
    assert "pw123" not in redacted
    assert "bob" not in redacted
    assert "part=1 (status 403); also tried" in redacted
    assert redacted.startswith("download failed for https://cdn.example/a.mp3?X-Amz-Signature=")
    assert redacted.endswith("@mirror.example/a.mp3, giving up")


def test_redact_text_leaves_text_without_urls_alone() -> None:
    text = "token=abc is not a URL, and neither is user:pass@host"
    assert redact_text(text) == text


# --- properties ---------------------------------------------------------------------------

# Characters a secret value may hold inside a query or a sentence: no separators that end it.
SECRET = st.text(
    alphabet=st.one_of(
        st.sampled_from("abcXYZ0123456789-_.~%+/:=!$()*,;"),
        st.characters(categories=["L", "N"]),
    ),
    min_size=6,
    max_size=40,
)
SENSITIVE_NAME = st.sampled_from(
    [
        "token",
        "access_token",
        "api_key",
        "KEY",
        "sig",
        "signature",
        "password",
        "X-Amz-Signature",
        "X-AMZ-CREDENTIAL",
        "x-goog-signature",
    ]
)
TEMPLATES = st.sampled_from(
    [
        "https://cdn.example.com/media/a.mp4?{name}={secret}",
        "https://cdn.example.com/media/a.mp4?page=2&{name}={secret}&format=mp4#t=10",
        "http://cdn.example.com:8080/?{name}={secret}&{name}={secret}",
    ]
)


@given(TEMPLATES, SENSITIVE_NAME, SECRET)
def test_a_sensitive_value_never_survives(template: str, name: str, secret: str) -> None:
    assume(secret not in template.format(name=name, secret="") and secret not in MASK)
    url = template.format(name=name, secret=secret)
    assert secret not in redact_url(url)
    sentence = f"could not fetch {url} after 3 attempts"
    redacted = redact_text(sentence)
    assert secret not in redacted
    assert redacted.endswith(" after 3 attempts")


USERINFO_SECRET = st.text(
    alphabet=st.one_of(
        st.sampled_from("abcXYZ0123456789-_.~%+!$()*,;=:"),
        st.characters(categories=["L", "N"]),
    ),
    min_size=6,
    max_size=40,
)


@given(USERINFO_SECRET)
def test_a_password_in_userinfo_never_survives(secret: str) -> None:
    template = "https://user:{}@files.example.com/a.bin?page=1"
    assume(secret not in template.format("") and secret not in MASK)
    url = template.format(secret)
    assert secret not in redact_url(url)
    assert secret not in redact_text(f"GET {url} failed")


URLISH = st.builds(
    lambda scheme, userinfo, host, path, query, fragment: (
        f"{scheme}://{userinfo}{host}{path}{query}{fragment}"
    ),
    st.sampled_from(["http", "https", "ftp", ""]),
    st.sampled_from(["", "u@", "u:p@", "@", "a@b@"]),
    st.sampled_from(["h.example", "[::1]", "[bad", "h.example:99", ""]),
    st.text(max_size=10).map(lambda s: "/" + s),
    st.lists(
        st.tuples(st.one_of(SENSITIVE_NAME, st.text(max_size=6)), st.text(max_size=8)),
        max_size=4,
    ).map(lambda pairs: "?" + "&".join(f"{k}={v}" for k, v in pairs) if pairs else ""),
    st.one_of(st.just(""), st.text(max_size=8).map(lambda s: "#" + s)),
)


@given(st.one_of(URLISH, st.text()))
def test_redact_url_is_idempotent(url: str) -> None:
    once = redact_url(url)
    assert redact_url(once) == once


@given(st.text())
def test_redact_text_never_raises_and_is_idempotent(text: str) -> None:
    once = redact_text(text)
    assert redact_text(once) == once


@pytest.mark.parametrize(
    "quoted",
    [
        "Authorization: Bearer abc.def.ghi",
        "authorization=Basic dXNlcjpwYXNz",
        "Cookie: session=s3cr3t; theme=dark",
        "set-cookie: session=s3cr3t; Path=/",
        "Proxy-Authorization: Basic dXNlcjpwYXNz",
    ],
)
def test_quoted_credential_headers_lose_their_values(quoted: str) -> None:
    shown = redact_text(f"the server said no; we sent {quoted}")
    name = quoted.split(":")[0].split("=")[0]
    assert shown.startswith("the server said no; we sent " + name)
    assert shown.endswith(MASK)
    for secret in ("abc.def.ghi", "dXNlcjpwYXNz", "s3cr3t"):
        assert secret not in shown
