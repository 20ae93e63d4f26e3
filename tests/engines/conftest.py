"""Fixtures for the engine tests: the built engines, the FnApiRunner reference, job servers.

These tests run only when asked for (``-m engines``, ``make test-engines``,
which builds the engines first); a missing engine is then an error that names
the make target that builds it, not a reason to skip.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.engines.enginekit import (
    CORPUS_SLICE,
    PASSES,
    SAMPLES,
    Replay,
    free_port,
    job_server_jar,
    prism_path,
    replay,
    wait_for_port,
)


def _built(path: Path, target: str) -> Path:
    if not path.is_file():
        pytest.fail(f"{path} is missing: run `make {target}` (or `make test-engines`)")
    return path


@pytest.fixture(scope="session")
def prism_binary() -> Path:
    return _built(prism_path(), "prism")


@pytest.fixture(scope="session")
def flink_jar() -> Path:
    return _built(job_server_jar("flink"), "jars")


@pytest.fixture(scope="session")
def spark_jar() -> Path:
    return _built(job_server_jar("spark"), "jars")


@pytest.fixture(scope="session")
def corpus_slice(corpora: Path) -> list[Path]:
    return [corpora / part for part in CORPUS_SLICE]


@pytest.fixture(scope="session")
def baseline(tmp_path_factory, corpus_slice) -> dict[str, Replay]:
    """The same replays on FnApiRunner: the reference every engine must match."""
    root = tmp_path_factory.mktemp("fnapi")
    runs = {
        "samples": replay(root / "samples", [SAMPLES], "--runner=FnApiRunner"),
        "corpus": replay(root / "corpus", corpus_slice, PASSES, "--runner=FnApiRunner"),
    }
    # A reference with nothing in it would make every comparison vacuous.
    assert len(runs["samples"].lines("flagged.jsonl")) >= 10
    assert len(runs["corpus"].lines("items.jsonl")) >= 400
    assert runs["corpus"].lines("flagged.jsonl") and runs["corpus"].lines("dead_letter.jsonl")
    return runs


@pytest.fixture
def job_server(tmp_path) -> Iterator[Callable[..., tuple[str, Path]]]:
    """Starts job server jars the way Beam's runners do (`java -jar JAR ...`).

    Yields a starter taking the jar and the engine's own arguments and returning
    ``(endpoint, log_path)``; every server started is ended with the test.
    """
    procs: list[subprocess.Popen] = []

    def start(jar: Path, *args: str) -> tuple[str, Path]:
        port = free_port()
        log = tmp_path / f"{jar.stem}.log"
        with log.open("wb") as sink:
            proc = subprocess.Popen(
                ["java", "-jar", str(jar), "--job-port", str(port)]
                + ["--artifact-port", "0", "--expansion-port", "0", *args],
                cwd=tmp_path,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        procs.append(proc)
        try:
            wait_for_port(port, proc, log)
        except (RuntimeError, TimeoutError) as err:
            pytest.fail(f"{jar.name}: {err}")
        return f"localhost:{port}", log

    yield start
    for proc in procs:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
