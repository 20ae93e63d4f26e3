"""The replay bench's runs: which command each row times."""

from __future__ import annotations

from benchmarks.replay_bench import _WORKERS, BOUND, _commands


def test_the_cld2_bound_is_the_two_worker_replay_with_cld2_alone(tmp_path):
    plain = _commands(tmp_path / "in", tmp_path / "out")
    bound = _commands(tmp_path / "in", tmp_path / "out", bound=True)
    assert BOUND not in plain and set(bound) - set(plain) == {BOUND}
    argv = bound[BOUND]
    assert argv[-2:] == ["--language_backend", "cld2"]
    assert argv[:-2] == [
        *plain["2 workers"][: plain["2 workers"].index("--output") + 1],
        str(tmp_path / "out" / "workers-cld2"),
        *_WORKERS,
    ]
    # The replay rows keep the default language backend.
    assert not any("--language_backend" in argv for argv in plain.values())
