"""Beam's portable Spark runner on Spark 3.5 (local[2], embedded in the job server)."""

from __future__ import annotations

import pytest

from tests.engines.enginekit import SAMPLES, replay, same_outputs

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
    assert f"'-jar', '{spark_jar}', '--spark-master-url', 'local[2]'" in got.stderr


def test_corpus_slice_replay_on_spark_matches_fnapi(
    tmp_path, spark_jar, baseline, corpus_slice, job_server
):
    endpoint, log = job_server(spark_jar, "--spark-master-url=local[2]")
    got = replay(tmp_path / "out", corpus_slice, *SPARK, f"--job_endpoint={endpoint}")
    same_outputs(got, baseline["corpus"])
    spark_log = log.read_text(encoding="utf-8", errors="replace")
    assert "Running Spark version 3.5" in spark_log
    assert "on Spark master local[2]" in spark_log
