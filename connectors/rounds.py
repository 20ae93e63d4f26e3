"""What one poll does to a source's row, and what a round reports: pure, no I/O.

:func:`after_success` and :func:`after_failure` turn a source's
:class:`~connectors.state.SourceHealth` and the outcome of one poll into its
next row: the schedule (adaptive interval or backoff, from
:mod:`connectors.schedule`), the health and the counts. The poller
(:mod:`connectors.poller`) calls them and stores the rows; tests call them
directly.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from connectors.base import PollResult, SourceConfig
from connectors.errors import ConnectorError, PermanentError
from connectors.schedule import DEFAULT_BOUNDS, backoff_delay, check_bounds, next_interval
from connectors.state import SourceHealth
from transforms.item import Item

__all__ = ["PollerConfig", "RoundReport", "after_failure", "after_success", "stamp"]


@dataclass(frozen=True, slots=True)
class PollerConfig:
    """How the poller schedules.

    Attributes:
        bounds: the adaptive interval's ``(low, high)`` in seconds.
        concurrency: sources polled at once.
        backoff_base: ceiling of the first failure's delay, seconds.
        min_backoff: a failed source waits at least this long (full jitter can draw 0).
        source_timeout: the longest one source's poll may take, all pages included.
    """

    bounds: tuple[float, float] = DEFAULT_BOUNDS
    concurrency: int = 100
    backoff_base: float = 60.0
    min_backoff: float = 1.0
    source_timeout: float = 180.0

    def __post_init__(self) -> None:
        check_bounds(self.bounds)
        if self.concurrency < 1:
            raise ValueError(f"concurrency must be >= 1 (got {self.concurrency!r})")


@dataclass(slots=True)
class RoundReport:
    """What one round did; :meth:`line` is the round's one line of output."""

    number: int
    started: float
    polled: int = 0
    not_modified: int = 0
    new_items: int = 0
    dead_letters: int = 0
    errors: int = 0
    duration: float = 0.0
    next_wake: float | None = None
    failed: list[str] = field(default_factory=list)

    def line(self, now: float | None = None) -> str:
        wake = "none"
        if self.next_wake is not None:
            now = time.time() if now is None else now
            clock = time.strftime("%H:%M:%SZ", time.gmtime(self.next_wake))
            wait = max(0.0, self.next_wake - now)
            wake = f"{clock} (in {wait:.1f} s)" if wait < 10 else f"{clock} (in {wait:.0f} s)"
        return (
            f"round {self.number}: {self.polled} sources polled, {self.not_modified} not modified"
            f" (304), {self.new_items} new items, {self.dead_letters} dead letters,"
            f" {self.errors} errors in {self.duration:.1f} s; next wake-up {wake}"
        )


def stamp(items: Sequence[Item], config: SourceConfig) -> tuple[Item, ...]:
    """Items with the configured country, affiliation and language copied on where unset.

    Neither field enters the item id, so stamping never changes an id.
    """
    out = []
    for item in items:
        source = item.source
        changes: dict[str, object] = {}
        missing_country = config.country and not source.country
        if missing_country or (config.affiliation and not source.affiliation):
            changes["source"] = replace(
                source,
                country=source.country or config.country,
                affiliation=source.affiliation or config.affiliation,
            )
        if config.language and not item.language_hint:
            changes["language_hint"] = config.language
        out.append(item.replace(**changes) if changes else item)
    return tuple(out)


def after_success(
    row: SourceHealth,
    result: PollResult,
    started: float,
    now: float,
    bounds: tuple[float, float] = DEFAULT_BOUNDS,
) -> SourceHealth:
    """The row after a successful poll (a 304 is one): new cursor, adaptive interval, counts.

    Args:
        row: the source's row before the poll.
        result: what the poll returned (its items already delivered).
        started: when the poll started (Unix seconds).
        now: when its result was recorded.
        bounds: the interval bounds, seconds.
    """
    new = len(result.items)
    interval = next_interval(row.interval, new, bounds, retry_after=result.retry_after)
    status = "not_modified" if result.not_modified else ("new" if new else "unchanged")
    return row.replace(
        cursor=result.cursor,
        next_poll=now + interval,
        interval=interval,
        last_attempt=started,
        last_success=now,
        last_new=now if new else row.last_new,
        consecutive_failures=0,
        last_status=status,
        polls=row.polls + 1,
        not_modified=row.not_modified + int(result.not_modified),
        items=row.items + new,
        dead_letters=row.dead_letters + len(result.dead_letters),
    )


def after_failure(
    row: SourceHealth,
    error: ConnectorError,
    started: float,
    now: float,
    config: PollerConfig,
    rng: random.Random | None = None,
) -> SourceHealth:
    """The row after a failed poll: backoff as the next poll, the error, the counts.

    A transient error backs off exponentially with full jitter (the server's
    ``retry_after`` as a floor); a permanent one waits the longest interval.
    The cursor and the interval are kept.

    Args:
        row: the source's row before the poll.
        error: what the poll raised.
        started: when the poll started (Unix seconds).
        now: when the failure was recorded.
        config: the bounds and backoff settings.
        rng: randomness for the jitter.
    """
    failures = row.consecutive_failures + 1
    high = config.bounds[1]
    if isinstance(error, PermanentError):
        delay = high
    else:
        delay = backoff_delay(
            failures,
            base=config.backoff_base,
            cap=high,
            rng=rng,
            retry_after=getattr(error, "retry_after", None),
        )
    delay = max(delay, config.min_backoff)
    kind = "permanent" if isinstance(error, PermanentError) else "transient"
    message = f"{kind}: {error}".splitlines()[0][:500]
    return row.replace(
        next_poll=now + delay,
        last_attempt=started,
        consecutive_failures=failures,
        last_error=message,
        last_status="error",
        polls=row.polls + 1,
        errors=row.errors + 1,
    )
