"""Prism, Beam's portable local runner, built from its Go module: same outputs as FnApiRunner."""

from __future__ import annotations

import importlib.util

import pytest
from apache_beam.options.pipeline_options import PipelineOptions

from tests.engines.enginekit import REPO, SAMPLES, replay, same_outputs

pytestmark = pytest.mark.engines


def prism_options(binary) -> list[str]:
    # LOOPBACK: the SDK harness runs in this process; Prism's default, Docker, is unavailable here.
    return ["--runner=PrismRunner", f"--prism_location={binary}", "--environment_type=LOOPBACK"]


def test_samples_replay_on_prism_matches_fnapi(tmp_path, prism_binary, baseline):
    got = replay(tmp_path / "out", [SAMPLES], *prism_options(prism_binary))
    same_outputs(got, baseline["samples"])
    # Beam started this Prism binary for the job (PrismRunner has no fallback runner).
    assert f"with cmd: ('{prism_binary}'" in got.stderr


def test_corpus_slice_replay_on_prism_matches_fnapi(tmp_path, prism_binary, baseline, corpus_slice):
    same_outputs(
        replay(tmp_path / "out", corpus_slice, *prism_options(prism_binary)), baseline["corpus"]
    )


# The streaming-dedup TestStream tests of tests/test_dedup_streaming.py, run again
# unchanged with their streaming pipelines on Prism instead of BundleBasedDirectRunner.
_spec = importlib.util.spec_from_file_location(
    "dedup_streaming_on_prism", REPO / "tests" / "test_dedup_streaming.py"
)
_streaming = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_streaming)
stories = _streaming.stories
test_streaming_and_batch_make_the_same_decisions_on_prism = (
    _streaming.test_streaming_and_batch_make_the_same_decisions
)
test_streaming_ttl_on_prism = (
    _streaming.test_streaming_ttl_drops_inside_admits_after_and_the_timer_clears_state
)


@pytest.fixture(autouse=True)
def streaming_on_prism(request, monkeypatch, prism_binary):
    built: list[PipelineOptions] = []

    def options() -> PipelineOptions:
        built.append(PipelineOptions([*prism_options(prism_binary), "--streaming"]))
        return built[-1]

    monkeypatch.setattr(_streaming, "_streaming_options", options)
    yield
    if request.node.name.startswith("test_streaming_"):
        assert built, "the streaming test did not build its pipeline with the Prism options"
