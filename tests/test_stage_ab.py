"""The per-stage comparison reads the replay loop's own stage report."""

from __future__ import annotations

from benchmarks.replay_loop import STAGES, main, run
from benchmarks.stage_ab import stage_seconds

FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Herald</title><link>https://herald.example/</link>
<item><title>Prosecutors open war crimes investigation</title>
<link>https://herald.example/a</link><guid>a</guid>
<description>Investigators said the shelling of the market may amount to a war crime.</description>
<pubDate>Tue, 10 Mar 2026 08:00:00 GMT</pubDate></item>
</channel></rss>
"""


def test_every_stage_of_a_loop_report_is_read(tmp_path, capsys):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "feed.xml").write_text(FEED, encoding="utf-8")
    assert main([str(tmp_path / "in"), str(tmp_path / "out"), "--stages"]) == 0
    report = capsys.readouterr().out
    seconds = stage_seconds(report)
    assert list(seconds) == [*STAGES, "all stages"]
    assert all(value >= 0.0 for value in seconds.values())
    assert abs(sum(seconds[s] for s in STAGES) - seconds["all stages"]) < 0.05
    assert run(tmp_path / "in", tmp_path / "again")["items"] == 1
    assert (tmp_path / "out" / "flagged.jsonl").read_text().count("\n") == 1


def test_same_lines_ignores_order_and_sees_a_changed_line(tmp_path):
    from benchmarks.replay_ab import same_lines

    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    a.write_bytes(b'{"id": 1}\n{"id": 2}\n')
    b.write_bytes(b'{"id": 2}\n{"id": 1}\n')
    c.write_bytes(b'{"id": 2}\n{"id": 3}\n')
    assert same_lines(a, b)
    assert not same_lines(a, c)


def test_replay_ab_runs_both_trees_and_compares_their_outputs(tmp_path, capsys):
    from pathlib import Path

    from benchmarks.replay_ab import main as replay_ab

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "feed.xml").write_text(FEED, encoding="utf-8")
    tree = str(Path(__file__).resolve().parents[1])
    args = [tree, tree, str(tmp_path / "in"), "--repeat", "1", "--runs", "FnApiRunner"]
    assert replay_ab(args) == 0
    report = capsys.readouterr().out
    assert "newswatch replay of 1 items" in report
    assert "FnApiRunner, old" in report and "FnApiRunner, new" in report
    assert '"items.jsonl": true, "flagged.jsonl": true' in report
