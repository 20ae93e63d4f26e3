"""Launching the streaming job: checks before it starts, the run loop, the Flex Template entry.

``newswatch stream`` (:mod:`pipelines.commands.stream`) and the Dataflow
Flex Template (``python -m pipelines.launch``, see ``deploy/``) share
:func:`stream_config`, which validates every option, and
:func:`pipelines.streaming.build_stream`, which builds the one graph.

Locally the job runs on ``BundleBasedDirectRunner --streaming`` (the only
local runner that reads Pub/Sub). :func:`run_stream` prints the stage
counters while it runs and, on Ctrl-C or SIGTERM, cancels the job and waits
for it to stop. The DirectRunner has no drain: its reader acknowledges on
pull, so messages in flight at that moment are lost to this run (the raw
archive keeps them for a replay). On Dataflow, stop with ``gcloud dataflow
jobs drain``, which finishes what was read.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence

from pipelines.options import STREAM_OPTIONS, check_output_dir, parse_thresholds, positive_int
from pipelines.stream_counters import MetricsExporter, counter_values, format_counters

__all__ = [
    "LOCAL_RUNNER",
    "check_pubsub",
    "counter_values",
    "format_counters",
    "main",
    "run_stream",
    "stream_config",
]

LOCAL_RUNNER = ("--runner=BundleBasedDirectRunner", "--streaming")
_TERMINAL = {"DONE", "FAILED", "CANCELLED", "UPDATED", "DRAINED"}
_log = logging.getLogger(__name__)


def stream_config(values: Mapping[str, str | None]):
    """A :class:`~pipelines.streaming.StreamConfig` from option values (strings, as parsed).

    Raises:
        ValueError: an option is missing or malformed (the message shows the value).
    """
    from connectors.pubsub import parse_subscription, parse_topic
    from pipelines.commands.common import check_backend
    from pipelines.pipeline import StageConfig
    from pipelines.streaming import StreamConfig
    from transforms.flagging import shared_engine
    from transforms.language_shared import process_tag
    from transforms.rules import PackError

    def get(name: str) -> str | None:
        # An option left out or empty takes its default from STREAM_OPTIONS.
        value = values.get(name)
        if value in ("", None):
            value = STREAM_OPTIONS[name][0]
        return value if value not in ("", None) else None

    for required in ("subscription", "flagged_topic"):
        if not get(required):
            raise ValueError(f"--{required} is required")
    thresholds = parse_thresholds(get("thresholds"))
    backend = get("language_backend")
    check_backend(backend)
    packs_dir = get("packs_dir")
    if packs_dir:
        try:
            # The same cache Flagging uses, so the packs compile once per run.
            shared_engine(packs_dir, thresholds)
        except PackError as exc:
            raise ValueError(str(exc)) from None
    dead_letter_topic = get("dead_letter_topic")
    output = get("output")
    return StreamConfig(
        subscription=parse_subscription(get("subscription")),
        flagged_topic=parse_topic(get("flagged_topic")),
        dead_letter_topic=parse_topic(dead_letter_topic) if dead_letter_topic else None,
        output=check_output_dir(output) if output else None,
        window_seconds=positive_int(get("window_seconds")),
        ttl_seconds=positive_int(get("dedup_ttl_seconds")),
        timestamp_attribute=get("timestamp_attribute"),
        id_label=get("id_label"),
        # The job's processes on one machine ask one server for lingua's high-accuracy answers.
        stages=StageConfig(backend, packs_dir, thresholds, process_tag()),
    )


def check_pubsub(config, timeout: float = 10.0) -> None:
    """Checks that the subscription and topics exist, before Beam starts.

    Raises:
        ValueError: one of them does not exist, or the endpoint does not answer
            (one line naming which and where).
    """
    import os

    from google.api_core import exceptions as gexc
    from google.cloud import pubsub_v1

    where = os.environ.get("PUBSUB_EMULATOR_HOST") or "pubsub.googleapis.com"
    subscriber = pubsub_v1.SubscriberClient()
    publisher = pubsub_v1.PublisherClient()
    checks: list[tuple[str, str, Callable]] = [
        ("subscription", config.subscription, subscriber.get_subscription),
        ("topic", config.flagged_topic, publisher.get_topic),
    ]
    if config.dead_letter_topic:
        checks.append(("topic", config.dead_letter_topic, publisher.get_topic))
    try:
        for kind, path, get in checks:
            try:
                get(request={kind: path}, timeout=timeout, retry=None)
            except gexc.NotFound:
                raise ValueError(f"Pub/Sub {kind} {path} does not exist (at {where})") from None
            except gexc.PermissionDenied as exc:
                raise ValueError(
                    f"no permission for Pub/Sub {kind} {path}: {exc.message}"
                ) from None
            except (gexc.GoogleAPICallError, gexc.RetryError) as exc:
                reason = getattr(exc, "message", None) or type(exc).__name__
                raise ValueError(
                    f"cannot reach Pub/Sub at {where}: {reason.splitlines()[0]}"
                ) from None
    finally:
        subscriber.close()
        publisher.transport.close()


def run_stream(
    config,
    beam_args: Sequence[str] = (),
    *,
    status_seconds: float = 10.0,
    metrics_port: int | None = None,
    stop: threading.Event | None = None,
    out=sys.stderr,
) -> int:
    """Runs the streaming job until ``stop`` is set (Ctrl-C / SIGTERM set it too) or it fails.

    Returns:
        0 after a clean stop, 1 when the job failed.
    """
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

    from pipelines.streaming import build_stream

    args = list(beam_args)
    if not any(a.startswith("--runner") for a in args):
        args = [*LOCAL_RUNNER, *args]
    elif "--streaming" not in args:
        args.append("--streaming")
    options = PipelineOptions(args)
    local = "Direct" in str(options.view_as(StandardOptions).runner)
    pipeline = beam.Pipeline(options=options)
    build_stream(pipeline, config)
    stop = stop or threading.Event()
    previous = _install_signals(stop)
    exporter = MetricsExporter(metrics_port) if metrics_port else None
    try:
        result = pipeline.run()
        print(
            f"newswatch: streaming from {config.subscription} to {config.flagged_topic}", file=out
        )
        state = str(result.state)
        shown, shown_at = None, 0.0
        while not stop.wait(status_seconds):
            state = str(result.state).rsplit(".", 1)[-1]
            counts = counter_values(result, local)
            if exporter:
                exporter.update(counts)
            line = format_counters(counts)
            # A quiet stream repeats itself only once a minute.
            if line != shown or time.monotonic() - shown_at >= 60:
                print(f"newswatch: {line}", file=out, flush=True)
                shown, shown_at = line, time.monotonic()
            if state in _TERMINAL:
                break
        if state not in _TERMINAL:
            print("newswatch: stopping (cancelling the job)...", file=out, flush=True)
            _cancel(result)
        try:
            result.wait_until_finish()
        except Exception as exc:  # noqa: BLE001 - the job's own failure, reported in one line
            if state in _TERMINAL or str(result.state).endswith("FAILED"):
                print(f"newswatch: error: the streaming job failed: {exc}", file=out)
                return 1
        counts = counter_values(result, local)
        print(f"newswatch: stopped. {format_counters(counts)}", file=out, flush=True)
        return 1 if str(result.state).endswith("FAILED") else 0
    finally:
        _restore_signals(previous)
        if exporter:
            exporter.close()


def _cancel(result, timeout: float = 60.0) -> None:
    # cancel() can block for a whole pull (30 s on the DirectRunner): run it beside a deadline.
    worker = threading.Thread(target=result.cancel, daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        _log.warning("the job did not stop within %.0f s", timeout)


def _install_signals(stop: threading.Event) -> dict:
    if threading.current_thread() is not threading.main_thread():
        return {}
    previous = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.signal(sig, lambda *_: stop.set())
    return previous


def _restore_signals(previous: dict) -> None:
    for sig, handler in previous.items():
        signal.signal(sig, handler)


def main(argv: Sequence[str] | None = None) -> int:
    """The Flex Template entry: submit the streaming job to Dataflow and return.

    Every option of :data:`~pipelines.options.STREAM_OPTIONS` is a template
    parameter; the rest are Dataflow's pipeline options.
    """
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

    from pipelines.options import StreamOptions
    from pipelines.streaming import build_stream

    args = list(sys.argv[1:] if argv is None else argv)
    options = PipelineOptions(args)
    options.view_as(StandardOptions).streaming = True
    if not options.view_as(StandardOptions).runner:
        options.view_as(StandardOptions).runner = "DataflowRunner"
    values = options.view_as(StreamOptions).get_all_options()
    try:
        config = stream_config({k: values.get(k) for k in STREAM_OPTIONS})
    except ValueError as exc:
        print(f"newswatch: error: {exc}", file=sys.stderr)
        return 2
    pipeline = beam.Pipeline(options=options)
    build_stream(pipeline, config)
    pipeline.run()
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    sys.exit(main())
