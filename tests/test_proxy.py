"""Proxies only when configured: HTTP_PROXY and friends are ignored, HAUL_PROXY is used."""

from __future__ import annotations

from pathlib import Path

import pytest

from core import State
from core.demo import LoopbackServer
from core.errors import SettingsError
from core.settings import load_settings

from .conftest import HaulFactory, item_state
from .test_downloads import add, blob, run_idle

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy")


async def test_proxy_variables_in_the_environment_are_ignored(
    make_haul: HaulFactory,
    server: LoopbackServer,
    proxy: LoopbackServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.setenv(name, proxy.base_url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    haul = await make_haul()
    server.add("/direct.bin", blob(5000, 1))
    [item_id] = await add(haul, server.url("/direct.bin"))

    assert await run_idle(haul) == 0

    assert await item_state(haul, item_id) == State.DONE
    assert len(server.requests_to("/direct.bin")) == 1
    assert proxy.requests == [] and proxy.stats.connections_opened == 0


async def test_haul_proxy_carries_every_request_and_targets_are_still_judged(
    make_haul: HaulFactory, proxy: LoopbackServer
) -> None:
    # Only 127.0.0.2 may be a target; the proxy (on 127.0.0.1) is trusted because it was
    # named in the settings. Nothing listens on 127.0.0.2:9: only the proxy can answer.
    haul = await make_haul(proxy=proxy.base_url, allow_hosts=("127.0.0.2",))
    body = blob(50_000, 2)
    proxy.add("/file.bin", body)
    proxy.add_redirect("/hop", "/file.bin")
    proxy.add_redirect("/sneaky", "http://127.0.0.1:9/secret")
    target = "http://127.0.0.2:9"
    submission = await haul.submit(
        [f"{target}/file.bin", f"{target}/hop", f"{target}/sneaky", "http://127.0.0.1:9/x"]
    )
    [refused] = submission.refused  # the door judges the target, proxy or not
    assert refused.given == "http://127.0.0.1:9/x" and "loopback" in refused.reason
    direct, hop, sneaky = (item.id for item in submission.added)

    assert await run_idle(haul) == 1

    # the hop ends at the same file: one of the two is filed, the other points at it
    assert {await item_state(haul, direct), await item_state(haul, hop)} == {
        State.DONE,
        State.SKIPPED,
    }
    failed = await haul.item(sneaky)
    assert failed is not None and failed.state == State.FAILED
    assert failed.error is not None and "redirected to" in failed.error
    assert "refused" in failed.error
    [entry] = await haul.library()
    assert Path(entry["path"]).read_bytes() == body
    seen = [record.absolute for record in proxy.requests]
    assert f"{target}/file.bin" in seen and f"{target}/hop" in seen
    assert f"{target}/sneaky" in seen and "http://127.0.0.1:9/secret" not in seen
    assert all(record.headers["host"] == "127.0.0.2:9" for record in proxy.requests)


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("socks5://127.0.0.1:1080", "not socks"),
        ("127.0.0.1:3128", "only http:// and https://"),
        ("http://127.0.0.1:3128/path", "no path"),
        ("http://127.0.0.1:99999", "HAUL_PROXY"),
    ],
)
def test_a_proxy_is_an_http_url_and_a_bad_one_is_named(value: str, words: str) -> None:
    with pytest.raises(SettingsError, match=words):
        load_settings(proxy=value)
    assert load_settings(proxy="https://127.0.0.1:3128").proxy == "https://127.0.0.1:3128"
    assert load_settings(proxy="").proxy is None
