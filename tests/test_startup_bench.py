"""The start-up bench's commands: the runner each one names, and one run measured for real."""

from __future__ import annotations

from pathlib import Path

from benchmarks.startup_bench import FAST, TRIVIAL, _commands, measure, worker_args


def test_workers_add_the_trivial_pipeline_and_the_replay_on_the_worker_runner(tmp_path):
    plain = _commands(tmp_path, slow=False)
    with_workers = _commands(tmp_path, slow=False, workers=2)
    assert set(with_workers) - set(plain) == {f"{TRIVIAL}, 2 workers", f"{FAST}, 2 workers"}
    for name in (f"{TRIVIAL}, 2 workers", f"{FAST}, 2 workers"):
        argv, _ = with_workers[name]
        assert argv[-3:] == worker_args(2)
    # The runs without workers keep the default runner, and the two replays
    # write to different folders.
    assert not any("--direct_num_workers=2" in " ".join(argv) for argv, _ in plain.values())
    fast_out = plain[FAST][0][plain[FAST][0].index("--output") + 1]
    workers_argv = with_workers[f"{FAST}, 2 workers"][0]
    assert workers_argv[workers_argv.index("--output") + 1] != fast_out


def test_the_trivial_pipeline_runs_on_two_worker_processes(tmp_path):
    argv, env = _commands(tmp_path, slow=False, workers=2)[f"{TRIVIAL}, 2 workers"]
    result = measure(argv, env)
    written = sorted(Path(tmp_path).glob("trivial-workers*"))
    assert written and written[0].read_text() == "X\n"
    assert result["cpu"] > 0 and result["tree_mb"] > 0 and result["seconds"] > 0
