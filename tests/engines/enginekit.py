"""Helpers for the engine tests: where `make engines` puts the engines, and replays on them.

The engines are built outside the checkout, in the engines cache
(``$NEWSWATCH_ENGINES``, else ``~/.cache/newswatch-engines``), by ``make prism``
and ``make jars``; ``make test-engines`` builds them first.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples" / "feeds"
OUTPUTS = ("items.jsonl", "flagged.jsonl", "dead_letter.jsonl")
# The slice of the real corpus every engine replays: 19 files, 425 entries in
# Russian, German, English, Ukrainian, French and Urdu, one entry dead-lettered,
# a mis-declared encoding, duplicates by URL, and two flagged items.
CORPUS_SLICE = ("feeds/real/multilingual", "feeds/real/miniflux")
# The samples replay as a user's small input does (dedup in one group); the
# corpus slice forces the four passes, the form large inputs take.
PASSES = "--dedup=passes"
# Flink settings for the job server's embedded mini-cluster (more network memory
# than its default): --flink-conf-dir for a job server started here, the
# FLINK_CONF_DIR environment variable for one that FlinkRunner starts.
FLINK_CONF = REPO / "engines" / "flink-conf"

# Flink 1.19 on Java 17: what Flink's own start scripts open (env.java.opts.all).
JAVA_17_OPENS = [
    "--add-exports=java.base/sun.net.util=ALL-UNNAMED",
    "--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED",
    "--add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED",
] + [
    f"--add-opens=java.base/{package}=ALL-UNNAMED"
    for package in (
        "java.lang",
        "java.net",
        "java.io",
        "java.nio",
        "sun.nio.ch",
        "java.lang.reflect",
        "java.text",
        "java.time",
        "java.util",
        "java.util.concurrent",
        "java.util.concurrent.atomic",
        "java.util.concurrent.locks",
    )
]

__all__ = [
    "CORPUS_SLICE",
    "FLINK_CONF",
    "JAVA_17_OPENS",
    "PASSES",
    "SAMPLES",
    "Replay",
    "engines_dir",
    "flink_dist_lib",
    "free_port",
    "job_server_jar",
    "prism_path",
    "replay",
    "run_replay",
    "same_outputs",
    "started",
    "wait_for_port",
]


def engines_dir() -> Path:
    """The engines cache, as engines/build_prism.sh and engines/fetch_jars.sh use it."""
    if os.environ.get("NEWSWATCH_ENGINES"):
        return Path(os.environ["NEWSWATCH_ENGINES"])
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "newswatch-engines"


def prism_path() -> Path:
    """Prism built from the Go module at the installed Beam SDK's version."""
    return engines_dir() / f"prism-v{version('apache-beam')}" / "prism"


def flink_dist_lib() -> Path:
    """Flink's distribution jars (from PyPI's apache-flink-libraries), fetched by fetch_jars.sh."""
    script = (REPO / "engines" / "fetch_jars.sh").read_text(encoding="utf-8")
    flink = re.search(r"^FLINK_VERSION=(\S+)", script, re.M).group(1)
    return engines_dir() / f"flink-{flink}" / "lib"


def _pom_beam_version(engine: str) -> str:
    pom = (REPO / "engines" / f"{engine}-job-server" / "pom.xml").read_text(encoding="utf-8")
    return re.search(r"<beam.version>([^<]+)</beam.version>", pom).group(1)


def job_server_jar(engine: str) -> Path:
    """The launcher jar of Beam's `engine` ("flink" or "spark") job server."""
    beam = _pom_beam_version(engine)
    return engines_dir() / f"{engine}-job-server-{beam}" / f"beam-{engine}-job-server-{beam}.jar"


@dataclass(frozen=True, slots=True)
class Replay:
    """One finished `newswatch replay`: its output folder and what it printed."""

    out: Path
    stderr: str

    def lines(self, name: str) -> list[str]:
        return (self.out / name).read_text(encoding="utf-8").splitlines()

    def summary(self) -> dict:
        return json.loads((self.out / "summary.json").read_text(encoding="utf-8"))


# The replay command, as `newswatch replay` runs it, with one difference: Beam
# logs the command line of each service it starts (a job server jar, Prism) at
# INFO, under the command's WARNING level, and the tests check which binary ran.
_LAUNCH = (
    "import logging, sys; from pipelines.cli import main; "
    "logging.getLogger('apache_beam.utils.subprocess_server').setLevel(logging.INFO); "
    "sys.exit(main())"
)


def run_replay(
    out: Path,
    inputs: list[Path],
    *beam_options: str,
    timeout: float = 900,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess:
    """Runs the replay command in its own process (``env`` added to ours); how it ended."""
    return subprocess.run(
        [sys.executable, "-c", _LAUNCH, "replay", *map(str, inputs)]
        + ["--output", str(out), "--quiet", *beam_options],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def replay(
    out: Path,
    inputs: list[Path],
    *beam_options: str,
    timeout: float = 900,
    env: dict[str, str] | None = None,
) -> Replay:
    """Runs the replay command as a user does, in its own process, and checks it succeeded."""
    proc = run_replay(out, inputs, *beam_options, timeout=timeout, env=env)
    assert proc.returncode == 0, (
        f"replay {beam_options} exited {proc.returncode}:\n{proc.stderr[-3000:]}"
    )
    return Replay(out, proc.stderr)


def started(stderr: str, *command: str) -> bool:
    """Whether Beam logged starting a service whose command line begins with ``command``.

    Beam 2.62 logs ``Starting service with ('java' '-jar' 'JAR' ...)``; an
    option it inserts between ``java`` and ``-jar`` (Spark's ``--add-opens``)
    is allowed by passing the command from ``-jar`` on.
    """
    quoted = " ".join(f"'{part}'" for part in command)
    return any(
        line.startswith("Starting service with (") and quoted in line
        for line in (row.partition(": ")[2] for row in stderr.splitlines())
    )


def same_outputs(got: Replay, want: Replay) -> None:
    """Asserts two replays wrote the same records, whatever their order, and the same counts."""
    for name in OUTPUTS:
        got_lines, want_lines = sorted(got.lines(name)), sorted(want.lines(name))
        assert len(got_lines) == len(want_lines), f"{name}: {len(got_lines)} vs {len(want_lines)}"
        assert got_lines == want_lines, f"{name} differs"
    assert got.summary() == want.summary()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("localhost", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, log: Path, timeout: float = 120) -> None:
    """Polls until `proc` listens on `port`; raises if it exits or the deadline passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"exited {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with socket.create_connection(("localhost", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)  # the next poll of the port, not a stand-in for a signal
    raise TimeoutError(f"nothing listened on port {port} within {timeout} s")
