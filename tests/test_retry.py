"""When to try again: backoff with full jitter, Retry-After, and words for permanent errors."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.retry import TRANSIENT_STATUSES, backoff_delay, describe_status, parse_retry_after

NOW = datetime(2015, 10, 21, 7, 28, 0, tzinfo=UTC).timestamp()


class Extreme(random.Random):
    """A generator that always draws the top (or the bottom) of the range it is given."""

    def __init__(self, top: bool) -> None:
        super().__init__(0)
        self.top = top

    def uniform(self, a: float, b: float) -> float:
        return b if self.top else a


def test_transient_statuses_are_exactly_the_retryable_ones() -> None:
    assert frozenset({408, 425, 429, 500, 502, 503, 504, 522, 524}) == TRANSIENT_STATUSES


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 451])
def test_never_retried_statuses_are_not_transient(status: int) -> None:
    assert status not in TRANSIENT_STATUSES


def test_describe_403_in_words_a_person_understands() -> None:
    assert describe_status(403) == (
        "the server refused the request (403); it may block non-browser clients or need a login"
    )


@pytest.mark.parametrize(
    ("status", "reason", "words"),
    [
        (404, "", "no such file (404)"),
        (401, "", "login (401)"),
        (410, "", "gone"),
        (418, "I'm a teapot", "the server refused the request (418 I'm a teapot)"),
        (499, "", "the server refused the request (499)"),
        (399, "", "redirect (399)"),
        (200, "OK", "the server answered 200 OK"),
    ],
)
def test_describe_status_names_the_status(status: int, reason: str, words: str) -> None:
    assert words in describe_status(status, reason)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("120", 120.0), (" 7 ", 7.0), ("0", 0.0), ("0007", 7.0)],
)
def test_retry_after_in_seconds(value: str, seconds: float) -> None:
    assert parse_retry_after(value) == seconds


@pytest.mark.parametrize(
    "value",
    [
        "Wed, 21 Oct 2015 07:29:30 GMT",  # IMF-fixdate
        "Wednesday, 21-Oct-15 07:29:30 GMT",  # RFC 850
        "Wed, 21 Oct 2015 07:29:30 +0000",
    ],
)
def test_retry_after_as_an_http_date(value: str) -> None:
    assert parse_retry_after(value, now=NOW) == pytest.approx(90.0)


def test_retry_after_date_in_the_past_means_now() -> None:
    assert parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now=NOW) == 0.0


def test_retry_after_date_uses_the_clock_when_no_now_is_given() -> None:
    in_a_minute = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=60)
    waited = parse_retry_after(format_datetime(in_a_minute, usegmt=True))
    assert waited is not None
    assert 55.0 <= waited <= 60.0


@pytest.mark.parametrize(
    "value",
    [None, "", "   ", "soon", "-5", "1.5", "1e3", "²", "١٢", "Wed, 21 Oct 2015 07:28:00", "0x10"],
)
def test_unusable_retry_after_is_none(value: str | None) -> None:
    assert parse_retry_after(value, now=NOW) is None


@given(st.text(max_size=40))
def test_parse_retry_after_never_raises(value: str) -> None:
    waited = parse_retry_after(value, now=NOW)
    assert waited is None or waited >= 0.0


def test_retry_after_wins_over_backoff_but_is_capped() -> None:
    assert backoff_delay(1, base=2.0, cap=60.0, retry_after=30.0) == 30.0
    assert backoff_delay(1, base=2.0, cap=60.0, retry_after=3600.0) == 60.0
    assert backoff_delay(9, base=2.0, cap=60.0, retry_after=0.0) == 0.0
    assert backoff_delay(1, base=2.0, cap=60.0, retry_after=-4.0) == 0.0


@given(
    st.integers(min_value=1, max_value=100),
    st.floats(min_value=0.0, max_value=100.0),
    st.floats(min_value=0.0, max_value=3600.0),
    st.integers(min_value=0, max_value=2**32),
)
def test_backoff_is_full_jitter_under_the_ceiling(
    attempt: int, base: float, cap: float, seed: int
) -> None:
    ceiling = min(cap, base * 2 ** (attempt - 1))
    delay = backoff_delay(attempt, base, cap, rng=random.Random(seed))
    assert 0.0 <= delay <= ceiling
    assert backoff_delay(attempt, base, cap, rng=Extreme(top=True)) == ceiling
    assert backoff_delay(attempt, base, cap, rng=Extreme(top=False)) == 0.0


def test_backoff_ceiling_doubles_until_the_cap() -> None:
    top = Extreme(top=True)
    ceilings = [backoff_delay(n, base=1.0, cap=20.0, rng=top) for n in range(1, 8)]
    assert ceilings == [1.0, 2.0, 4.0, 8.0, 16.0, 20.0, 20.0]


def test_backoff_spreads_its_delays() -> None:
    rng = random.Random(1234)
    delays = {backoff_delay(5, base=1.0, cap=600.0, rng=rng) for _ in range(50)}
    assert len(delays) > 40
    assert max(delays) <= 16.0
