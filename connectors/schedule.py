"""When to poll a source again: pure functions, no clock and no I/O.

Two questions, answered separately so the poller can record the answer in
the source's health:

* after a failure, :func:`backoff_delay` — exponential backoff with full
  jitter (a random delay between 0 and ``base * 2**(failures-1)``, capped),
  so many feeds failing together do not come back together; a server's own
  ``Retry-After`` is a floor;
* after a success, :func:`next_interval` — an adaptive interval between two
  bounds (default 5 min to 6 h): shorter while new items keep appearing,
  longer while they do not, and never sooner than the feed itself says its
  content stays fresh (``Cache-Control: max-age``, ``Expires``, RSS ``<ttl>``,
  ``Retry-After``).

:func:`freshness_hint` reads the HTTP half of those hints from headers.
"""

from __future__ import annotations

import email.utils
import random
import re
import time
from collections.abc import Callable
from datetime import UTC

__all__ = [
    "DEFAULT_BOUNDS",
    "backoff_delay",
    "check_bounds",
    "freshness_hint",
    "next_interval",
]

# Default interval bounds in seconds: 5 minutes to 6 hours.
DEFAULT_BOUNDS = (300.0, 21600.0)

# Interval factors: halve after a busy poll, shorten a little after one new
# item, lengthen by half after an empty poll. Halving reacts quickly to a
# breaking story; growing by 1.5 takes ~9 empty polls from 5 min to 6 h.
_BUSY = 0.5
_ONE = 0.75
_QUIET = 1.5

_MAX_AGE = re.compile(r"(?:^|[,\s])(s-maxage|max-age)\s*=\s*\"?(\d+)", re.IGNORECASE)
_NO_CACHE = re.compile(r"(?:^|[,\s])(no-cache|no-store)\b", re.IGNORECASE)


def check_bounds(bounds: tuple[float, float]) -> tuple[float, float]:
    """Validate interval bounds ``(low, high)`` in seconds.

    Raises:
        ValueError: not two positive numbers with ``low <= high``.
    """
    try:
        low, high = (float(b) for b in bounds)
    except (TypeError, ValueError):
        raise ValueError(f"bounds must be two numbers (low, high) in seconds (got {bounds!r})")
    if not (0 < low <= high):
        raise ValueError(f"bounds must satisfy 0 < low <= high (got {bounds!r})")
    return low, high


def backoff_delay(
    failures: int,
    base: float = 60.0,
    cap: float = DEFAULT_BOUNDS[1],
    rng: random.Random | Callable[[], float] | None = None,
    *,
    retry_after: float | None = None,
) -> float:
    """Seconds to wait after ``failures`` consecutive failures (full jitter).

    The delay is uniform in ``[0, min(cap, base * 2**(failures - 1))]``; with a
    server hint it is at least ``min(retry_after, cap)``.

    Args:
        failures: consecutive failures so far, including the one just seen;
            0 means none (delay 0).
        base: the ceiling of the first delay, in seconds.
        cap: the largest ceiling, in seconds.
        rng: a ``random.Random`` or a function returning a float in [0, 1);
            tests pass a seeded one. Defaults to the module's generator.
        retry_after: the server's ``Retry-After`` (or rate-limit reset) in seconds.

    Raises:
        ValueError: negative ``failures``, or ``base``/``cap`` not positive.
    """
    if failures < 0:
        raise ValueError(f"failures must be >= 0 (got {failures!r})")
    if base <= 0 or cap <= 0:
        raise ValueError(f"base and cap must be > 0 (got base={base!r}, cap={cap!r})")
    if failures == 0:
        ceiling = 0.0
    else:
        # 2**62 already dwarfs any cap; avoid overflow for absurd counts.
        ceiling = min(cap, base * 2.0 ** min(failures - 1, 62))
    draw = rng.random() if isinstance(rng, random.Random) else (rng or random.random)()
    delay = ceiling * draw
    if retry_after is not None and retry_after > 0:
        delay = max(delay, min(float(retry_after), cap))
    return delay


def next_interval(
    previous: float | None,
    new_items: int,
    bounds: tuple[float, float] = DEFAULT_BOUNDS,
    *,
    max_age: float | None = None,
    ttl: float | None = None,
    retry_after: float | None = None,
) -> float:
    """Seconds until the next poll after a successful one.

    The interval shrinks while new items appear (halved after two or more,
    times 0.75 after one) and grows by half after a poll with none (a 304
    counts as none). The feed's own hints are floors: polling before
    ``max_age``, ``ttl`` or ``retry_after`` has passed only fetches the same
    content. The result is clamped to ``bounds``.

    Args:
        previous: the interval used before this poll; None on the first poll
            (the lower bound is the starting point).
        new_items: items this poll found that were not seen before.
        bounds: ``(low, high)`` in seconds.
        max_age: freshness from HTTP headers (:func:`freshness_hint`), seconds.
        ttl: the feed's ``<ttl>`` in seconds (RSS gives minutes: multiply by 60).
        retry_after: a ``Retry-After`` sent with a successful response, seconds.

    Raises:
        ValueError: bad bounds or a negative ``new_items``.
    """
    low, high = check_bounds(bounds)
    if new_items < 0:
        raise ValueError(f"new_items must be >= 0 (got {new_items!r})")
    if previous is None or previous <= 0:
        interval = low
    elif new_items >= 2:
        interval = previous * _BUSY
    elif new_items == 1:
        interval = previous * _ONE
    else:
        interval = previous * _QUIET
    for hint in (max_age, ttl, retry_after):
        if hint is not None and hint > 0:
            interval = max(interval, float(hint))
    return min(high, max(low, interval))


def freshness_hint(
    cache_control: str | None,
    expires: str | None = None,
    date: str | None = None,
    now: float | None = None,
) -> float | None:
    """How long a response stays fresh, in seconds, from its HTTP headers; None if unsaid.

    ``Cache-Control: s-maxage``/``max-age`` wins over ``Expires`` (as in RFC
    9111); ``no-cache``/``no-store`` say nothing about when to come back, so
    they give None. ``Expires`` is measured from the response's ``Date`` when
    present (server clock against server clock), else from ``now``.

    Args:
        cache_control: the ``Cache-Control`` header value.
        expires: the ``Expires`` header value.
        date: the ``Date`` header value.
        now: the current Unix time (default: the clock).
    """
    if cache_control:
        ages = {m.group(1).lower(): int(m.group(2)) for m in _MAX_AGE.finditer(cache_control)}
        if "s-maxage" in ages or "max-age" in ages:
            return float(ages.get("s-maxage", ages.get("max-age", 0)))
        if _NO_CACHE.search(cache_control):
            return None
    if not expires:
        return None
    until = _http_date(expires)
    if until is None:
        return 0.0  # RFC 9111: an invalid Expires means already expired
    start = _http_date(date) if date else None
    if start is None:
        start = time.time() if now is None else now
    return max(0.0, until - start)


def _http_date(value: str) -> float | None:
    try:
        when = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()
