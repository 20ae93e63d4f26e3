"""The per-DoFn CPU report of an in-process replay names the stages the items went through."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.test_stage_ab import FEED

REPO = Path(__file__).resolve().parents[1]


def test_a_one_item_replay_reports_its_stages_and_writes_its_outputs(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "feed.xml").write_text(FEED, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.replay_dofn_cpu", str(tmp_path / "in"),
         str(tmp_path / "out")],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "out" / "flagged.jsonl").read_text().count("\n") == 1
    report = done.stderr[done.stderr.index("thread CPU seconds per project DoFn"):]
    calls = dict(
        (label, int(n)) for n, label in re.findall(r"s +(\d+) calls  (\S+)", report)
    )
    assert calls.get("normalise_stage._NormaliseFn.process") == 1
    assert calls.get("flagging._FlagFn.process") == 1
    assert calls.get("flag_item()@flagging") == 1
