"""``make stream``: the whole continuous-monitoring chain on one machine.

Starts the Pub/Sub emulator, creates the topics and subscriptions, serves the
bundled samples (``samples/feeds``) from a loopback HTTP server, and runs::

    newswatch poll --publish RAW        (samples → raw-item topic)
    newswatch stream                    (raw items → flagged topic, dead-letter topic)
    newswatch consume --store STORE     (flagged topic → review store)

each in its own process group, their lines prefixed with their name. Ctrl-C
or SIGTERM stops the poller, then the pipeline, then the consumer (each is
sent SIGINT and given time to finish, then killed as a group), then the
emulator: no process is left behind. If one of them exits on its own, the
others are stopped too and the exit status says so.

    python -m deploy.local_stack [--store out/stream/review.db] [--workdir out/stream]
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from tests.pubsub_emulator import PROJECT, Emulator, emulator_binary

__all__ = ["Stack", "main"]

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples" / "feeds"
STOP_SECONDS = 90.0


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        pass


class Stack:
    """The emulator, the sample server and the three processes, started and stopped together.

    Args:
        workdir: where the sources file, poller state, windowed files and logs go.
        store: the review store the consumer writes.
        extra_stream: more options for ``newswatch stream``.
    """

    def __init__(self, workdir: Path, store: Path, extra_stream: list[str] | None = None) -> None:
        self.workdir = workdir
        self.store = store
        self.extra_stream = extra_stream or []
        self.processes: dict[str, subprocess.Popen] = {}
        self.emulator: Emulator | None = None
        self._http: http.server.ThreadingHTTPServer | None = None
        self._pipes: list[threading.Thread] = []
        self.paths: dict[str, str] = {}

    def start(self) -> None:
        """Starts everything; raises RuntimeError if the emulator cannot be found or started."""
        binary = emulator_binary()
        if binary is None:
            raise RuntimeError("Pub/Sub emulator not found (gcloud's platform/pubsub-emulator)")
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.store.parent.mkdir(parents=True, exist_ok=True)
        self.emulator = Emulator(binary, self.workdir / "emulator.log")
        self.emulator.wait_ready()
        env = dict(os.environ, PUBSUB_EMULATOR_HOST=self.emulator.host, PYTHONUNBUFFERED="1")
        self.paths = self._create_topics(env)
        sources = self._serve_samples()
        python = [sys.executable, "-m", "pipelines.cli"]
        p = self.paths
        commands = {
            "consume": [*python, "consume", "--subscription", p["flagged_sub"],
                        "--store", str(self.store)],
            "stream": [*python, "stream", "--subscription", p["raw_sub"],
                       "--flagged_topic", p["flagged"], "--dead_letter_topic", p["dead"],
                       "--output", str(self.workdir / "files"), *self.extra_stream],
            "poll": [*python, "poll", "--sources", str(sources),
                     "--state", str(self.workdir / "poll.sqlite"), "--publish", p["raw"],
                     "--allow_private_addresses", "--per_host_delay", "0"],
        }  # fmt: skip
        for name, command in commands.items():
            self._spawn(name, command, env)

    def _create_topics(self, env: dict[str, str]) -> dict[str, str]:
        os.environ["PUBSUB_EMULATOR_HOST"] = env["PUBSUB_EMULATOR_HOST"]
        from google.cloud import pubsub_v1

        publisher = pubsub_v1.PublisherClient()
        subscriber = pubsub_v1.SubscriberClient()
        paths = {}
        for name in ("raw", "flagged", "dead"):
            topic = f"projects/{PROJECT}/topics/newswatch-{name}"
            subscription = f"projects/{PROJECT}/subscriptions/newswatch-{name}"
            publisher.create_topic(name=topic)
            subscriber.create_subscription(name=subscription, topic=topic, ack_deadline_seconds=60)
            paths[name], paths[f"{name}_sub"] = topic, subscription
        subscriber.close()
        return paths

    def _serve_samples(self) -> Path:
        handler = functools.partial(_QuietHandler, directory=str(SAMPLES))
        self._http = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=self._http.serve_forever, daemon=True).start()
        port = self._http.server_address[1]
        lines = []
        for path in sorted(SAMPLES.iterdir()):
            lines += [
                f"- name: {path.stem}",
                "  kind: feed",
                f"  url: http://127.0.0.1:{port}/{path.name}",
            ]
        sources = self.workdir / "sources.yaml"
        sources.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return sources

    def _spawn(self, name: str, command: list[str], env: dict[str, str]) -> None:
        proc = subprocess.Popen(
            command,
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: Ctrl-C reaches it only through us
        )
        self.processes[name] = proc
        log = (self.workdir / f"{name}.log").open("ab")
        thread = threading.Thread(target=_relay, args=(name, proc, log), daemon=True)
        thread.start()
        self._pipes.append(thread)

    def wait(self, stop: threading.Event) -> str | None:
        """Until ``stop`` is set or a process exits; returns the name of one that exited."""
        while not stop.wait(0.5):
            for name, proc in self.processes.items():
                if proc.poll() is not None:
                    return name
        return None

    def stop(self) -> dict[str, int | None]:
        """Stops poller, pipeline, consumer, then the emulator; returns their exit statuses."""
        codes: dict[str, int | None] = {}
        for name in ("poll", "stream", "consume"):
            proc = self.processes.get(name)
            if proc is None:
                continue
            codes[name] = _stop_group(proc, STOP_SECONDS)
        for thread in self._pipes:
            thread.join(timeout=5)
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
        if self.emulator is not None:
            self.emulator.stop()
        return codes


def _relay(name: str, proc: subprocess.Popen, log) -> None:
    with log:
        for line in proc.stdout:
            log.write(line)
            log.flush()
            sys.stdout.write(f"[{name}] {line.decode('utf-8', 'replace')}")
            sys.stdout.flush()


def _stop_group(proc: subprocess.Popen, timeout: float) -> int | None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGINT)
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
        except ProcessLookupError:
            pass
    try:
        # Whatever is left in the group (children of the command) goes too.
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=30)
    return proc.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m deploy.local_stack", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--store", default="out/stream/review.db", help="review store (SQLite)")
    parser.add_argument("--workdir", default="out/stream", help="sources, state, files and logs")
    args, extra = parser.parse_known_args(argv)
    stack = Stack(Path(args.workdir), Path(args.store), extra)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        stack.start()  # a failure half-way is cleaned up by stop() below
        print(
            f"newswatch stack: emulator {stack.emulator.host}, store {args.store}; Ctrl-C stops",
            flush=True,
        )
        exited = stack.wait(stop)
    except Exception as exc:  # noqa: BLE001 - whatever stopped the start, nothing may be left running
        print(f"newswatch stack: error: {exc}", file=sys.stderr)
        stack.stop()
        return 2
    if exited:
        print(f"newswatch stack: {exited} exited on its own; stopping the rest", flush=True)
    codes = stack.stop()
    print(
        f"newswatch stack: stopped ({', '.join(f'{k} {v}' for k, v in codes.items())})", flush=True
    )
    return 1 if exited else 0


if __name__ == "__main__":
    sys.exit(main())
