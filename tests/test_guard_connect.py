"""The guard where it cannot be dodged: on the resolved address, at connect time, every hop.

Names are resolved by a stand-in for DNS (the only part not real here): "files.test"
answers with a loopback address the policy refuses, or one it allows. The sockets,
the servers and the redirects are real.
"""

from __future__ import annotations

import logging

import pytest

from core import load_settings
from core.demo import LoopbackServer
from core.errors import PermanentError
from core.http import Resolver, TargetRefused, make_client, open_following
from core.sources import check_url

from .test_downloads import blob


def resolving_to(*answers: str) -> Resolver:
    async def resolve(host: str, port: int) -> list[str]:
        assert host == "files.test"
        return list(answers)

    return resolve


async def test_a_name_resolving_to_a_refused_address_is_refused_when_connecting(
    other_host: LoopbackServer,
) -> None:
    settings = load_settings(allow_hosts=("127.0.0.1",))
    url = f"http://files.test:{other_host.port}/a.bin"
    other_host.add("/a.bin", blob(100))
    check_url(url, settings.network_policy)  # the door cannot know: the name looks public

    async with make_client(settings, resolver=resolving_to("127.0.0.2")) as client:
        with pytest.raises(TargetRefused) as refused:
            await open_following(client, url, {}, settings.network_policy, 10)

    assert str(refused.value) == (
        "refused target: files.test resolves to 127.0.0.2, a loopback address; "
        "set HAUL_ALLOW_PRIVATE_NETWORKS=1 or list it in HAUL_ALLOW_HOSTS to allow it"
    )
    assert other_host.stats.connections_opened == 0


async def test_every_answer_is_checked_and_only_an_allowed_one_is_dialled(
    server: LoopbackServer, other_host: LoopbackServer
) -> None:
    # DNS answers with a refused address first and an allowed one second: haul must skip
    # the refused one, not try it, and reach the allowed server.
    settings = load_settings(allow_hosts=("127.0.0.1",))
    server.add("/a.bin", blob(100, 2))
    url = f"http://files.test:{server.port}/a.bin"
    resolver = resolving_to("127.0.0.2", "127.0.0.1")

    async with make_client(settings, resolver=resolver) as client:
        response, final = await open_following(client, url, {}, settings.network_policy, 10)
        body = await response.aread()
        await response.aclose()

    assert body == blob(100, 2) and final == url
    assert other_host.stats.connections_opened == 0


async def test_a_redirect_to_a_name_that_resolves_to_a_refused_address_is_refused(
    server: LoopbackServer, other_host: LoopbackServer
) -> None:
    settings = load_settings(allow_hosts=("127.0.0.1",))
    other_host.add("/secret", b"internal")
    server.add_redirect("/go", f"http://files.test:{other_host.port}/secret")

    async with make_client(settings, resolver=resolving_to("127.0.0.2")) as client:
        with pytest.raises(TargetRefused, match=r"files\.test resolves to 127\.0\.0\.2"):
            await open_following(client, server.url("/go"), {}, settings.network_policy, 10)

    assert len(server.requests_to("/go")) == 1
    assert other_host.stats.connections_opened == 0


async def test_a_redirect_to_a_refused_address_is_refused_at_the_hop(
    server: LoopbackServer, other_host: LoopbackServer
) -> None:
    settings = load_settings(allow_hosts=("127.0.0.1",))
    server.add_redirect("/go", other_host.url("/secret"))

    async with make_client(settings) as client:
        with pytest.raises(PermanentError) as refused:
            await open_following(client, server.url("/go"), {}, settings.network_policy, 10)

    assert "redirected to http://127.0.0.2:" in str(refused.value)
    assert "127.0.0.2, a loopback address" in str(refused.value)
    assert other_host.stats.connections_opened == 0


async def test_redirect_hops_are_bounded(server: LoopbackServer) -> None:
    settings = load_settings(allow_hosts=("127.0.0.1",))
    server.add_redirect("/loop", "/loop")

    async with make_client(settings) as client:
        with pytest.raises(PermanentError, match=r"too many redirects \(more than 3\)"):
            await open_following(client, server.url("/loop"), {}, settings.network_policy, 3)

    assert len(server.requests_to("/loop")) == 4


async def test_http_client_loggers_never_reveal_secrets(
    server: LoopbackServer, caplog: pytest.LogCaptureFixture
) -> None:
    settings = load_settings(allow_hosts=("127.0.0.1",))
    server.add("/a.bin", blob(10))
    url = server.url("/a.bin?access_token=hunter2-secret&X-Amz-Signature=abc123")

    with caplog.at_level(logging.DEBUG):
        async with make_client(settings) as client:
            response, _ = await open_following(client, url, {}, settings.network_policy, 10)
            await response.aread()
            await response.aclose()

    assert logging.getLogger("httpx").getEffectiveLevel() >= logging.WARNING
    assert logging.getLogger("httpcore").getEffectiveLevel() >= logging.WARNING
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "hunter2-secret" not in logged and "abc123" not in logged
