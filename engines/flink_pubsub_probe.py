"""Probe: streaming on Flink through Java's cross-language PubsubIO, against the Pub/Sub emulator.

    mvn -q -f engines/flink-pubsub-probe/pom.xml -Dengines.out=~/.cache/newswatch-engines package
    .venv/bin/python engines/flink_pubsub_probe.py [--seconds 90] [--messages 20]
        [--write python|java] [--expansion-option=--experiments=use_deprecated_read ...]

This is a probe, not a test (docs/engines.md says what it shows). It starts
the emulator, an expansion service and a Flink job server (embedded
mini-cluster) from the probe's class path, runs ``ReadFromPubSub``
(cross-language, run in the EMBEDDED Java environment inside Flink) ->
upper-case -> ``WriteToPubSub`` (Python's own, or with ``--write java`` the
cross-language one), publishes messages, and reports how many came out and how
many were still waiting on the input subscription. Exit status 0 only if every
message came through. Logs (emulator, expansion service, Flink) are kept.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import apache_beam as beam  # noqa: E402
from apache_beam.io.external.gcp.pubsub import ReadFromPubSub, WriteToPubSub  # noqa: E402
from apache_beam.options.pipeline_options import PipelineOptions  # noqa: E402

from tests.engines.enginekit import (  # noqa: E402
    JAVA_17_OPENS,
    engines_dir,
    free_port,
    wait_for_port,
)
from tests.pubsub_emulator import PROJECT, Emulator, emulator_binary  # noqa: E402

__all__ = ["JavaPubsubOptions", "main"]


class JavaPubsubOptions(PipelineOptions):
    """The Pub/Sub endpoint for Java's PubsubIO, under the name Java reads.

    Python's own ``--pubsub_root_url`` is stored as ``pubsubRootUrl`` and sent
    to the runner as ``beam:option:pubsubRootUrl:v1``; Java turns option names
    from lower_underscore into lowerCamel, which makes that ``pubsubrooturl``,
    an option no Java interface has, so PubsubIO keeps its default
    https://pubsub.googleapis.com. This option is sent as ``pubsub_root_url``,
    which Java reads as ``pubsubRootUrl``.
    """

    @classmethod
    def _add_argparse_args(cls, parser) -> None:
        parser.add_argument(
            "--java_pubsub_root_url",
            dest="pubsub_root_url",
            default=None,
            help="root URL of the Pub/Sub API for Java transforms (PubsubOptions.pubsubRootUrl)",
        )


def _java(classpath: str, log: Path, *args: str) -> subprocess.Popen:
    # Flink's Java 17 flags: without them a checkpoint of the read's state fails
    # with "InaccessibleObjectException: Unable to make field private final
    # java.lang.Object[] java.util.Arrays$ArrayList.a accessible".
    with log.open("wb") as sink:
        return subprocess.Popen(
            ["java", *JAVA_17_OPENS, "-cp", classpath, *args],
            stdout=sink,
            stderr=subprocess.STDOUT,
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=90)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--write", choices=("python", "java"), default="python")
    parser.add_argument(
        "--expansion-option",
        action="append",
        default=[],
        help="a pipeline option for the Java expansion service (repeatable)",
    )
    args = parser.parse_args()
    lib = engines_dir() / "flink-pubsub-probe-2.62.0" / "lib"
    if not lib.is_dir():
        raise SystemExit(f"{lib} is missing: build engines/flink-pubsub-probe/pom.xml first")
    binary = emulator_binary()
    if binary is None:
        raise SystemExit("the Pub/Sub emulator is not installed (gcloud's pubsub-emulator)")
    logs = Path(tempfile.mkdtemp(prefix="flink-pubsub-probe-"))
    emulator = Emulator(binary, logs / "emulator.log")
    procs: list[subprocess.Popen] = []
    try:
        emulator.wait_ready()
        os.environ["PUBSUB_EMULATOR_HOST"] = emulator.host
        from google.cloud import pubsub_v1

        publisher, subscriber = pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
        (in_topic, in_sub), (out_topic, out_sub) = emulator.names("in"), emulator.names("out")
        for topic, subscription in ((in_topic, in_sub), (out_topic, out_sub)):
            publisher.create_topic(name=topic)
            subscriber.create_subscription(name=subscription, topic=topic)
        classpath, expansion, jobs = f"{lib}/*", free_port(), free_port()
        procs.append(
            _java(
                classpath,
                logs / "expansion.log",
                "org.apache.beam.sdk.expansion.service.ExpansionService",
                str(expansion),
                "--defaultEnvironmentType=EMBEDDED",
                *args.expansion_option,
            )
        )
        procs.append(
            _java(
                classpath,
                logs / "job-server.log",
                "org.apache.beam.runners.flink.FlinkJobServerDriver",
                "--flink-master=[local]",
                f"--job-port={jobs}",
                "--artifact-port=0",
                "--expansion-port=0",
            )
        )
        wait_for_port(expansion, procs[0], logs / "expansion.log")
        wait_for_port(jobs, procs[1], logs / "job-server.log")
        options = PipelineOptions(
            [
                "--runner=FlinkRunner",
                f"--job_endpoint=localhost:{jobs}",
                "--environment_type=LOOPBACK",
                "--streaming",
                "--parallelism=2",
                "--checkpointing_interval=2000",
                f"--java_pubsub_root_url=http://{emulator.host}",  # Java's pubsubRootUrl
                f"--project={PROJECT}",
            ]
        )
        pipeline = beam.Pipeline(options=options)
        (
            pipeline
            | ReadFromPubSub(subscription=in_sub, expansion_service=f"localhost:{expansion}")
            | beam.Map(bytes.upper)
            | (
                WriteToPubSub(topic=out_topic, expansion_service=f"localhost:{expansion}")
                if args.write == "java"
                else beam.io.WriteToPubSub(topic=out_topic)
            )
        )
        result = pipeline.run()
        sent = [f"message {n}".encode() for n in range(args.messages)]
        for message in sent:
            publisher.publish(in_topic, message).result()
        got: set[bytes] = set()
        deadline = time.monotonic() + args.seconds
        while time.monotonic() < deadline and len(got) < len(sent):
            reply = subscriber.pull(subscription=out_sub, max_messages=100, timeout=10)
            got.update(r.message.data for r in reply.received_messages)
            if reply.received_messages:
                acks = [r.ack_id for r in reply.received_messages]
                subscriber.acknowledge(subscription=out_sub, ack_ids=acks)
        waiting = subscriber.pull(subscription=in_sub, max_messages=1000, timeout=10)
        print(f"job state {result.state}; {len(got)} of {len(sent)} messages came out")
        print(f"{len(waiting.received_messages)} still on the input subscription; logs in {logs}")
        result.cancel()
        return 0 if got == {m.upper() for m in sent} else 1
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=30)
        emulator.stop()


if __name__ == "__main__":
    sys.exit(main())
