"""The portable SparkRunner on Spark 3.5: local[2] in the job server, and a standalone cluster."""

from __future__ import annotations

import os
import subprocess
import time

import pytest

from tests.engines.enginekit import (
    PASSES,
    SAMPLES,
    free_port,
    replay,
    same_outputs,
    started,
    wait_for_port,
)

pytestmark = pytest.mark.engines

SPARK = ["--runner=SparkRunner", "--environment_type=LOOPBACK"]


def test_samples_replay_on_spark_matches_fnapi(tmp_path, spark_jar, baseline):
    # As a user runs it: SparkRunner starts the job server jar itself.
    got = replay(
        tmp_path / "out",
        [SAMPLES],
        *SPARK,
        "--spark_master_url=local[2]",
        f"--spark_job_server_jar={spark_jar}",
    )
    same_outputs(got, baseline["samples"])
    # (Beam puts its own --add-opens flags between `java` and `-jar`.)
    assert started(got.stderr, "-jar", str(spark_jar), "--spark-master-url", "local[2]")


def test_corpus_slice_replay_on_spark_matches_fnapi(
    tmp_path, spark_jar, baseline, corpus_slice, job_server
):
    endpoint, log = job_server(spark_jar, "--spark-master-url=local[2]")
    got = replay(tmp_path / "out", corpus_slice, PASSES, *SPARK, f"--job_endpoint={endpoint}")
    same_outputs(got, baseline["corpus"])
    spark_log = log.read_text(encoding="utf-8", errors="replace")
    assert "Running Spark version 3.5" in spark_log
    assert "on Spark master local[2]" in spark_log


JAVA_17_OPENS = [
    f"--add-opens=java.base/{package}=ALL-UNNAMED"
    for package in ("java.lang", "java.lang.invoke", "java.nio", "java.util", "sun.nio.ch")
]


@pytest.fixture
def standalone_spark(tmp_path, spark_jar):
    """A Spark 3.5 standalone master and a 2-core worker on loopback, from the job server's jars.

    Spark's launcher wants a SPARK_HOME with a jars/ folder: the job server's lib/ is that.
    Yields (master URL, the worker's work folder, env for the job server).
    """
    home = tmp_path / "spark-home"
    home.mkdir()
    (home / "jars").symlink_to(spark_jar.parent / "lib")
    env = {
        **os.environ,
        "SPARK_HOME": str(home),
        "SPARK_SCALA_VERSION": "2.12",  # else the launcher looks for a source build
        "SPARK_LOCAL_IP": "127.0.0.1",
    }
    classpath = str(spark_jar.parent / "lib" / "*")
    port, work = free_port(), tmp_path / "work"
    procs = []
    try:
        for name, args in (
            (
                "master",
                ["org.apache.spark.deploy.master.Master", "--host", "127.0.0.1"]
                + ["--port", str(port), "--webui-port", str(free_port())],
            ),
            (
                "worker",
                ["org.apache.spark.deploy.worker.Worker", f"spark://127.0.0.1:{port}"]
                + ["--host", "127.0.0.1", "--cores", "2", "--memory", "2g"]
                + ["--webui-port", str(free_port()), "--work-dir", str(work)],
            ),
        ):
            log = tmp_path / f"{name}.log"
            with log.open("wb") as sink:
                procs.append(
                    subprocess.Popen(
                        ["java", *JAVA_17_OPENS, "-cp", classpath, *args],
                        env=env,
                        stdout=sink,
                        stderr=subprocess.STDOUT,
                    )
                )
            if name == "master":
                wait_for_port(port, procs[0], log)
        deadline = time.monotonic() + 120
        master_log = tmp_path / "master.log"
        while "Registering worker" not in master_log.read_text(errors="replace"):
            assert time.monotonic() < deadline, "the worker did not register with the master"
            time.sleep(0.5)  # the next look at the master's log, within the deadline
        yield f"spark://127.0.0.1:{port}", work, env
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=30)


def test_samples_replay_on_standalone_spark_cluster_matches_fnapi(
    tmp_path, spark_jar, baseline, standalone_spark
):
    master, work, env = standalone_spark
    port = free_port()
    log = tmp_path / "job-server.log"
    with log.open("wb") as sink:
        server = subprocess.Popen(
            ["java", "-jar", str(spark_jar), "--spark-master-url", master]
            + ["--job-port", str(port), "--artifact-port", "0", "--expansion-port", "0"],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_port(port, server, log)
        got = replay(tmp_path / "out", [SAMPLES], *SPARK, f"--job_endpoint=localhost:{port}")
    finally:
        server.terminate()
        server.wait(timeout=30)
    same_outputs(got, baseline["samples"])
    # The tasks ran in the worker's executor process, not in the job server.
    executor_logs = "".join(p.read_text(errors="replace") for p in work.rglob("stderr"))
    assert "Finished task" in executor_logs
