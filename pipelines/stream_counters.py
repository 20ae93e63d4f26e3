"""The streaming job's counters while it runs: read, printed on one line, exported to Prometheus.

:func:`counter_values` reads the ``newswatch`` counters of a job (or, on the
DirectRunner, the in-process tally), :func:`format_counters` makes the status
line :func:`pipelines.launch.run_stream` prints, and :class:`MetricsExporter`
serves them on ``/metrics``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

__all__ = ["MetricsExporter", "counter_values", "format_counters"]

_log = logging.getLogger("pipelines.launch")


def counter_values(result, local: bool = False) -> dict[str, int]:
    """The ``newswatch`` counters of a running or finished job (committed where known).

    Args:
        result: the job.
        local: the job runs in this process (DirectRunner): read the
            in-process tally (:data:`pipelines.streaming.LOCAL_TALLY`), since
            that runner loses counter updates of all but the first bundles.
    """
    from apache_beam.metrics.metric import MetricsFilter

    if local:
        from pipelines.streaming import local_tally

        return local_tally()

    out: dict[str, int] = {}
    try:
        counters = result.metrics().query(MetricsFilter().with_namespace("newswatch"))["counters"]
    except Exception as exc:  # noqa: BLE001 - a runner that cannot report yet is not an error
        _log.debug("counters not available: %s", exc)
        return out
    for counter in counters:
        value = counter.committed if counter.committed is not None else counter.attempted
        name = counter.key.metric.name
        out[name] = out.get(name, 0) + int(value or 0)
    return out


def format_counters(counts: Mapping[str, int]) -> str:
    """One status line: received, duplicates, flagged per category, languages, late, dead."""
    c = lambda k: counts.get(k, 0)  # noqa: E731
    dups = sum(v for k, v in counts.items() if k.startswith("duplicates."))
    flagged = ", ".join(
        f"{k.split('.', 1)[1]} {v}"
        for k, v in sorted(counts.items())
        if k.startswith("flagged.") and k != "flagged.any"
    )
    langs = sorted(
        ((v, k.split(".", 1)[1]) for k, v in counts.items() if k.startswith("language.")),
        reverse=True,
    )
    lang_text = " ".join(f"{lang} {n}" for n, lang in langs[:6]) or "-"
    return (
        f"received {c('entries.read')} | unique {c('entries.unique')} | duplicates {dups}"
        f" | flagged {c('flagged.any')} ({flagged or '-'}) | languages {lang_text}"
        f" | late {c('late')} | dead letters {c('entries.dead_letter')}"
    )


class MetricsExporter:
    """Prometheus metrics (``/metrics``; any path answers, so it doubles as a health check)."""

    def __init__(self, port: int) -> None:
        from prometheus_client import CollectorRegistry, Gauge, start_http_server

        self._registry = CollectorRegistry()
        self._gauge = Gauge(
            "newswatch_stream_count",
            "newswatch streaming job counters, by summary key",
            ["name"],
            registry=self._registry,
        )
        self._up = Gauge("newswatch_stream_up", "1 while the job runs", registry=self._registry)
        self._up.set(1)
        self._server, self._thread = start_http_server(
            port, addr="127.0.0.1", registry=self._registry
        )

    def update(self, counts: Mapping[str, int]) -> None:
        for name, value in counts.items():
            self._gauge.labels(name=name).set(value)

    def close(self) -> None:
        self._up.set(0)
        self._server.shutdown()
        self._server.server_close()  # frees the port for the next run in this process
