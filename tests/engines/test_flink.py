"""Beam's FlinkRunner on a real Flink (the job server's embedded mini-cluster), parallelism 2."""

from __future__ import annotations

import pytest

from tests.engines.enginekit import SAMPLES, replay, same_outputs

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
    )
    same_outputs(got, baseline["samples"])
    assert f"with cmd: ('java', '-jar', '{flink_jar}', '--flink-master', '[local]'" in got.stderr


def test_corpus_slice_replay_on_flink_matches_fnapi(
    tmp_path, flink_jar, baseline, corpus_slice, job_server
):
    # A job server started here, so that Flink's own log shows what ran.
    endpoint, log = job_server(flink_jar, "--flink-master=[local]")
    got = replay(tmp_path / "out", corpus_slice, *FLINK, f"--job_endpoint={endpoint}")
    same_outputs(got, baseline["corpus"])
    flink_log = log.read_text(encoding="utf-8", errors="replace")
    assert "Flink Mini Cluster started successfully" in flink_log
    assert "switched from state RUNNING to FINISHED" in flink_log
    assert "(2/2)" in flink_log  # the second of two parallel subtasks
