"""Unit tests of the pure poll-scheduling functions (connectors/schedule.py)."""

from __future__ import annotations

import random

import pytest

from connectors.schedule import backoff_delay, check_bounds, freshness_hint, next_interval


def test_backoff_ceiling_doubles_then_caps():
    top = lambda: 0.999999  # noqa: E731 - the largest draw shows the ceiling
    assert backoff_delay(0, 60, 3600, top) == 0.0
    assert backoff_delay(1, 60, 3600, top) == pytest.approx(60, rel=1e-5)
    assert backoff_delay(2, 60, 3600, top) == pytest.approx(120, rel=1e-5)
    assert backoff_delay(4, 60, 3600, top) == pytest.approx(480, rel=1e-5)
    assert backoff_delay(10, 60, 3600, top) == pytest.approx(3600, rel=1e-5)
    assert backoff_delay(10_000, 60, 3600, top) == pytest.approx(3600, rel=1e-5)


def test_backoff_is_full_jitter_and_seeded():
    draws = [backoff_delay(3, 60, 3600, random.Random(seed)) for seed in range(200)]
    assert all(0 <= d <= 240 for d in draws)
    assert min(draws) < 40 and max(draws) > 200  # spread over the whole range
    assert backoff_delay(3, 60, 3600, random.Random(7)) == backoff_delay(
        3, 60, 3600, random.Random(7)
    )


def test_backoff_honours_retry_after_as_floor_up_to_cap():
    assert backoff_delay(1, 60, 3600, lambda: 0.0, retry_after=120) == 120
    assert backoff_delay(1, 60, 3600, lambda: 0.0, retry_after=99999) == 3600
    assert backoff_delay(5, 60, 3600, lambda: 0.5, retry_after=1) == pytest.approx(480)


def test_backoff_rejects_bad_values():
    with pytest.raises(ValueError, match="failures must be >= 0"):
        backoff_delay(-1)
    with pytest.raises(ValueError, match="base=0"):
        backoff_delay(1, base=0)


def test_next_interval_adapts_within_bounds():
    assert next_interval(None, 0) == 300
    assert next_interval(1000, 5) == 500
    assert next_interval(1000, 1) == 750
    assert next_interval(1000, 0) == 1500
    assert next_interval(400, 9) == 300  # floor
    assert next_interval(20000, 0) == 21600  # ceiling
    interval = None
    for _ in range(12):
        interval = next_interval(interval, 0)
    assert interval == 21600


def test_next_interval_honours_feed_hints_as_floors():
    assert next_interval(1000, 5, max_age=1800) == 1800
    assert next_interval(1000, 5, ttl=60 * 60) == 3600
    assert next_interval(1000, 5, retry_after=900) == 900
    assert next_interval(1000, 5, ttl=10**7) == 21600  # the upper bound still wins
    assert next_interval(1000, 0, bounds=(60, 120)) == 120


def test_next_interval_validates():
    with pytest.raises(ValueError, match=r"0 < low <= high \(got \(600, 300\)\)"):
        next_interval(None, 0, bounds=(600, 300))
    with pytest.raises(ValueError, match="two numbers"):
        check_bounds(("a", 2))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="new_items"):
        next_interval(None, -1)


def test_freshness_hint():
    assert freshness_hint("public, max-age=600") == 600
    assert freshness_hint('max-age="60", s-maxage=120') == 120
    assert freshness_hint("no-cache", "Thu, 01 Jan 2037 00:00:00 GMT") is None
    assert freshness_hint(None) is None
    assert (
        freshness_hint(None, "Tue, 01 Dec 2026 13:00:00 GMT", "Tue, 01 Dec 2026 12:30:00 GMT")
        == 1800
    )
    assert freshness_hint(None, "0") == 0.0  # invalid Expires: already stale
    noon = 1_796_126_400  # Tue, 01 Dec 2026 12:00:00 UTC
    assert freshness_hint(None, "Tue, 01 Dec 2026 13:00:00 GMT", now=noon) == 3600
    assert freshness_hint(None, "Tue, 01 Dec 2026 11:00:00 GMT", now=noon) == 0.0
