"""FlinkRunner on real Flink 1.19, parallelism 2: the embedded mini-cluster and a standalone one."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from tests.engines.enginekit import (
    FLINK_CONF,
    PASSES,
    JAVA_17_OPENS,
    SAMPLES,
    flink_dist_lib,
    free_port,
    job_server_jar,
    replay,
    same_outputs,
    started,
    wait_for_port,
)

pytestmark = pytest.mark.engines

FLINK = ["--runner=FlinkRunner", "--parallelism=2", "--environment_type=LOOPBACK"]


def test_samples_replay_on_flink_matches_fnapi(tmp_path, flink_jar, baseline):
    # As a user runs it: FlinkRunner starts the job server jar itself.
    got = replay(
        tmp_path / "out",
        [SAMPLES],
        *FLINK,
        "--flink_master=[local]",
        f"--flink_job_server_jar={flink_jar}",
        env={"FLINK_CONF_DIR": str(FLINK_CONF)},
    )
    same_outputs(got, baseline["samples"])
    assert started(got.stderr, "java", "-jar", str(flink_jar), "--flink-master", "[local]")


def test_corpus_slice_replay_on_flink_matches_fnapi(
    tmp_path, flink_jar, baseline, corpus_slice, job_server
):
    # A job server started here, so that Flink's own log shows what ran.
    endpoint, log = job_server(
        flink_jar, "--flink-master=[local]", f"--flink-conf-dir={FLINK_CONF}"
    )
    got = replay(tmp_path / "out", corpus_slice, PASSES, *FLINK, f"--job_endpoint={endpoint}")
    same_outputs(got, baseline["corpus"])
    flink_log = log.read_text(encoding="utf-8", errors="replace")
    assert "Flink Mini Cluster started successfully" in flink_log
    assert "switched from state RUNNING to FINISHED" in flink_log
    assert "(2/2)" in flink_log  # the second of two parallel subtasks


# What Flink's start scripts would compute for a small TaskManager (2 slots),
# written out because the entry points are started here without the scripts.
TASKMANAGER = """\
taskmanager.numberOfTaskSlots: 2
parallelism.default: 2
taskmanager.cpu.cores: 2.0
taskmanager.memory.framework.heap.size: 128m
taskmanager.memory.task.heap.size: 768m
taskmanager.memory.managed.size: 256m
taskmanager.memory.network.min: 512m
taskmanager.memory.network.max: 512m
taskmanager.memory.framework.off-heap.size: 128m
taskmanager.memory.task.off-heap.size: 0m
taskmanager.memory.jvm-metaspace.size: 256m
taskmanager.memory.jvm-overhead.min: 192m
taskmanager.memory.jvm-overhead.max: 192m
taskmanager.network.sort-shuffle.min-buffers: 64
jobmanager.memory.process.size: 1024m
"""


def _rest(port: int, path: str) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as reply:
        return json.load(reply)


def _taskmanagers(port: int) -> list[dict]:
    """The TaskManagers registered so far; none while the REST API is still starting.

    The REST endpoint listens before the JobManager's leader is elected, and
    answers 503 Service Unavailable until then (seen on a loaded machine).
    """
    try:
        return _rest(port, "/taskmanagers")["taskmanagers"]
    except urllib.error.HTTPError as err:
        if err.code != 503:
            raise
        return []


@pytest.fixture
def standalone_flink(tmp_path):
    """A Flink 1.19 JobManager and TaskManager on loopback, from Flink's distribution jars.

    The job server's lib/ is on their class path too, so Beam's operators load
    there. Yields the REST port (what --flink-master names).
    """
    lib = flink_dist_lib()
    if not lib.is_dir():
        pytest.fail(f"{lib} is missing: run `make jars` (or `make test-engines`)")
    conf = tmp_path / "conf"
    conf.mkdir()
    rest = free_port()
    (conf / "flink-conf.yaml").write_text(
        f"jobmanager.rpc.address: 127.0.0.1\njobmanager.rpc.port: {free_port()}\n"
        "jobmanager.bind-host: 127.0.0.1\ntaskmanager.host: 127.0.0.1\n"
        "taskmanager.bind-host: 127.0.0.1\nrest.address: 127.0.0.1\n"
        f"rest.bind-address: 127.0.0.1\nrest.port: {rest}\n" + TASKMANAGER
    )
    classpath = f"{lib}/*:{job_server_jar('flink').parent / 'lib'}/*"
    procs = []
    try:
        for name, main in (
            (
                "jobmanager",
                "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint",
            ),
            ("taskmanager", "org.apache.flink.runtime.taskexecutor.TaskManagerRunner"),
        ):
            with (tmp_path / f"{name}.log").open("wb") as sink:
                procs.append(
                    subprocess.Popen(
                        ["java", *JAVA_17_OPENS, "-cp", classpath, main, "-c", str(conf)],
                        stdout=sink,
                        stderr=subprocess.STDOUT,
                    )
                )
        wait_for_port(rest, procs[0], tmp_path / "jobmanager.log")
        deadline = time.monotonic() + 120
        while not any(tm["slotsNumber"] == 2 for tm in _taskmanagers(rest)):
            assert procs[1].poll() is None, (tmp_path / "taskmanager.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the TaskManager did not register"
            time.sleep(0.5)  # the next look at the cluster's REST API, within the deadline
        yield rest
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=30)


def test_samples_replay_on_standalone_flink_cluster_matches_fnapi(
    tmp_path, flink_jar, baseline, standalone_flink, job_server
):
    endpoint, _ = job_server(flink_jar, f"--flink-master=127.0.0.1:{standalone_flink}")
    got = replay(tmp_path / "out", [SAMPLES], *FLINK, f"--job_endpoint={endpoint}")
    same_outputs(got, baseline["samples"])
    # The job ran on the cluster: its JobManager lists it as finished.
    jobs = _rest(standalone_flink, "/jobs/overview")["jobs"]
    assert [job["state"] for job in jobs] == ["FINISHED"]
    vertices = _rest(standalone_flink, f"/jobs/{jobs[0]['jid']}")["vertices"]
    assert max(vertex["parallelism"] for vertex in vertices) == 2
