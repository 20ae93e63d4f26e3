"""The poller: rounds over the configured sources, with health, schedule and cursors kept.

A round polls every due source concurrently (at most ``concurrency`` at
once) through one shared :class:`~connectors.http.Fetcher`, so one slow host
holds only its own source. As polls finish, their results are delivered in
batches: items and dead letters go to the outputs (:mod:`connectors.rawsinks`)
and, once those are durable, the sources' new cursors and health go to the
state file in one transaction (at-least-once).

After a success the next poll is the adaptive interval of
:func:`connectors.schedule.next_interval` (shorter while new items appear,
never sooner than the source's own freshness hints). After a failure it is
:func:`connectors.schedule.backoff_delay` (exponential with full jitter,
``Retry-After`` as a floor); a permanent error waits the longest interval,
until the source's configuration changes. Nothing a source does stops the
round: its failure is recorded in its health and the round goes on.

The poller sleeps between rounds; connectors never do.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from connectors.base import Connector, PollResult, SourceConfig, connector_class
from connectors.errors import ConnectorError, TransientError
from connectors.http import Fetcher
from connectors.rawsinks import RawOutputs
from connectors.rounds import PollerConfig, RoundReport, after_failure, after_success, stamp
from connectors.state import SourceHealth, State
from transforms.item import DeadLetter, Item

__all__ = ["Poller", "PollerConfig", "RoundReport", "stamp"]

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Outcome:
    config: SourceConfig
    started: float
    result: PollResult | None = None
    error: ConnectorError | None = None


class Poller:
    """Rounds over sources; see the module docstring.

    Args:
        sources: the configured sources.
        state: the state file (rows are added for new sources).
        fetcher: the one HTTP layer every connector uses.
        outputs: where items and dead letters go.
        config: scheduling settings.
        clock: Unix time (tests pass their own).
        rng: randomness for backoff jitter (tests pass a seeded one).
        fetch_articles: fetch each new item's article page and put its main text
            on the item (:mod:`connectors.articles`) before delivery.
    """

    def __init__(
        self,
        sources: Sequence[SourceConfig],
        state: State,
        fetcher: Fetcher,
        outputs: RawOutputs,
        config: PollerConfig = PollerConfig(),
        *,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        fetch_articles: bool = False,
    ) -> None:
        self.state = state
        self.fetcher = fetcher
        self.outputs = outputs
        self.config = config
        self.clock = clock
        self.rng = rng or random.Random()
        self._robots = None
        if fetch_articles:
            from connectors.articles import Robots

            self._robots = Robots(fetcher)
        self.rounds = state.counter("rounds")
        self._connectors: dict[str, tuple[SourceConfig, Connector]] = {}
        self.set_sources(sources)

    def set_sources(self, sources: Sequence[SourceConfig]) -> None:
        """Use a new list of sources (a reloaded sources file); known rows are kept."""
        self.sources = {s.name: s for s in sources}
        self.health = self.state.sync(sources)

    def due(self, now: float | None = None) -> list[str]:
        now = self.clock() if now is None else now
        return [name for name, row in self.health.items() if row.next_poll <= now]

    def next_wake(self) -> float | None:
        return min((row.next_poll for row in self.health.values()), default=None)

    def connector(self, config: SourceConfig) -> Connector:
        """The source's connector, built once per configuration of the source."""
        cached = self._connectors.get(config.name)
        if cached is None or cached[0] != config:
            cached = (config, connector_class(config.kind)(config, self.fetcher))
            self._connectors[config.name] = cached
        return cached[1]

    async def run_round(self, force: bool = False) -> RoundReport:
        """Poll every due source (every source with ``force``) once; deliver; record."""
        self.rounds = self.state.bump("rounds")
        started = self.clock()
        report = RoundReport(number=self.rounds, started=started)
        names = list(self.health) if force else self.due(started)
        queue: asyncio.Queue[_Outcome] = asyncio.Queue()
        gate = asyncio.Semaphore(self.config.concurrency)

        async def job(name: str) -> None:
            async with gate:
                outcome = await self._poll_one(self.sources[name], self.health[name].cursor)
            queue.put_nowait(outcome)

        tasks = [asyncio.create_task(job(name)) for name in names]
        try:
            await self._commit_loop(queue, len(tasks), report)
        finally:
            for task in tasks:
                task.cancel()
        report.duration = self.clock() - started
        report.next_wake = self.next_wake()
        # The archive rotates its files only between rounds, so a round's
        # responses and the article pages found in them share a file.
        end_round = getattr(self.fetcher.archive, "end_round", None)
        if end_round is not None:
            end_round()
        return report

    async def run(
        self,
        stop: asyncio.Event,
        *,
        once: bool = False,
        force: bool = False,
        on_round: Callable[[RoundReport], object] = lambda r: print(r.line(), flush=True),
        reload: Callable[[], bool] | None = None,
        recheck: float = 30.0,
    ) -> int:
        """Rounds until ``stop`` is set (after the round in flight), or one round with ``once``.

        Args:
            stop: set it to stop after the round in flight (or at once while sleeping).
            once: run one round only.
            force: poll every source in the first round, due or not.
            on_round: called with each round's report.
            reload: called before each round and every ``recheck`` seconds while
                sleeping; returns True when it changed the sources (through
                :meth:`set_sources`), which ends the sleep so new sources are
                polled at once.
            recheck: seconds between ``reload`` calls while sleeping.

        Returns:
            The number of rounds run.
        """
        count = 0
        while True:
            if reload is not None:
                reload()
            report = await self.run_round(force=force and count == 0)
            count += 1
            on_round(report)
            if once or stop.is_set():
                return count
            if await self._sleep(stop, reload, recheck):
                return count

    async def _sleep(
        self, stop: asyncio.Event, reload: Callable[[], bool] | None, recheck: float
    ) -> bool:
        """Sleep until the next source is due; True if ``stop`` was set meanwhile."""
        while True:
            wake = self.next_wake()
            wake = self.clock() + 60 if wake is None else wake
            delay = max(0.0, wake - self.clock())
            if reload is not None:
                delay = min(delay, recheck)
            try:
                await asyncio.wait_for(stop.wait(), delay)
                return True
            except TimeoutError:
                pass
            if self.clock() >= wake or (reload is not None and reload()):
                return False

    async def _poll_one(self, config: SourceConfig, cursor: str | None) -> _Outcome:
        outcome = _Outcome(config=config, started=self.clock())
        try:
            connector = self.connector(config)
            result = await asyncio.wait_for(connector.poll(cursor), self.config.source_timeout)
            items = stamp(result.items, config)
            if self._robots is not None and items:
                items = await self._articles(config, items)
            outcome.result = replace(result, items=items)
        except ConnectorError as exc:
            outcome.error = exc
        except TimeoutError:
            outcome.error = TransientError(
                f"poll took longer than {self.config.source_timeout:g} s", url=config.url
            )
        except Exception as exc:  # a connector's bug must not stop the other sources
            log.exception("source %s: connector failed", config.name)
            outcome.error = TransientError(f"connector failed: {type(exc).__name__}: {exc}")
        return outcome

    async def _articles(self, config: SourceConfig, items: tuple[Item, ...]) -> tuple[Item, ...]:
        from connectors.articles import enrich_all

        # An article that cannot be had leaves its item as the feed gave it.
        results = await enrich_all(items, self.fetcher, self._robots)
        missing = [r.reason for r in results if r.reason is not None]
        if missing:
            log.info(
                "source %s: %d of %d articles not fetched (first: %s)",
                config.name, len(missing), len(results), missing[0],
            )  # fmt: skip
        return tuple(r.item for r in results)

    async def _commit_loop(
        self, queue: asyncio.Queue[_Outcome], total: int, report: RoundReport
    ) -> None:
        remaining = total
        while remaining:
            batch = [await queue.get()]
            # Whatever else finished while the last batch was written goes in this one.
            while not queue.empty():
                batch.append(queue.get_nowait())
            remaining -= len(batch)
            await self._commit(batch, report)

    async def _commit(self, batch: list[_Outcome], report: RoundReport) -> None:
        items: list[Item] = []
        letters: list[DeadLetter] = []
        for outcome in batch:
            if outcome.result is not None:
                items.extend(outcome.result.items)
                letters.extend(outcome.result.dead_letters)
        if items or letters:
            try:
                await asyncio.to_thread(self.outputs.deliver, items, letters)
            except Exception as exc:  # noqa: BLE001 - any output failure: keep cursors, retry later
                log.error("could not deliver %d items: %s", len(items), exc)
                reason = f"could not deliver items: {type(exc).__name__}: {exc}"
                for outcome in batch:
                    if outcome.result is not None and (
                        outcome.result.items or outcome.result.dead_letters
                    ):
                        outcome.result = None
                        outcome.error = TransientError(reason)
        now = self.clock()
        rows = [self._after(outcome, now, report) for outcome in batch]
        self.state.save(rows)
        for row in rows:
            self.health[row.name] = row

    def _after(self, outcome: _Outcome, now: float, report: RoundReport) -> SourceHealth:
        """The source's new row after one poll, counted in the round's report."""
        row = self.health[outcome.config.name]
        report.polled += 1
        result = outcome.result
        if result is None:
            error = outcome.error or TransientError("unknown failure")
            new_row = after_failure(row, error, outcome.started, now, self.config, self.rng)
            log.warning(
                "source %s: %s (retry in %.0f s)", row.name, new_row.last_error,
                new_row.next_poll - now,
            )  # fmt: skip
            report.errors += 1
            report.failed.append(row.name)
            return new_row
        report.not_modified += int(result.not_modified)
        report.new_items += len(result.items)
        report.dead_letters += len(result.dead_letters)
        return after_success(row, result, outcome.started, now, self.config.bounds)
