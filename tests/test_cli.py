"""The command line a person types: options, exit statuses, staged outputs, progress."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.cli import main
from pipelines.options import parse_size, positive_seconds, suggest_option

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples" / "feeds"
ONE_FEED = (
    '<rss version="2.0"><channel><title>Desk</title><language>en</language>'
    "<item><guid>1</guid><title>Report</title><description>Investigators documented war"
    " crimes committed against civilians, the prosecutor said.</description></item>"
    "</channel></rss>"
)


@pytest.mark.parametrize(
    ("value", "size"),
    [
        ("20MB", 20 * 1024**2),
        ("20 mb", 20 * 1024**2),
        ("512KiB", 512 * 1024),
        ("1.5G", 3 * 1024**3 // 2),
        ("100", 100),
        ("7b", 7),
    ],
)
def test_sizes_take_units(value, size):
    assert parse_size(value) == size


@pytest.mark.parametrize("value", ["20XB", "-1", "0", "", "MB", "1e9"])
def test_bad_sizes_show_the_value(value):
    with pytest.raises(ValueError, match=re.escape(repr(value))):
        parse_size(value)


def test_seconds_must_be_positive():
    assert positive_seconds("2.5") == 2.5
    for value in ("0", "-3", "inf", "x"):
        with pytest.raises(ValueError, match=re.escape(repr(value))):
            positive_seconds(value)


def test_suggestion_names_the_unknown_option():
    known = ["--output", "--max_bytes", "--runner"]
    assert suggest_option("--ouput", known) == "unknown option --ouput (did you mean --output?)"
    assert suggest_option("--max-bytes=3", known) == (
        "unknown option --max-bytes (did you mean --max_bytes?)"
    )
    assert suggest_option("--zebra", known) == "unknown option --zebra"


@pytest.mark.parametrize(
    ("argument", "named"),
    [("--ouput", "--ouput (did you mean --output?)"), ("--max-bytes", "--max-bytes")],
)
def test_unknown_option_is_a_usage_error_naming_it(tmp_path, capsys, argument, named):
    out = tmp_path / "out"
    code = main(["replay", str(SAMPLES), argument, str(out), "--output", str(tmp_path / "o2")])
    assert code == 2
    assert f"unknown option {named}" in capsys.readouterr().err
    assert not out.exists() and not (tmp_path / "o2").exists()  # nothing ran


def test_beam_options_are_still_accepted(tmp_path):
    out = tmp_path / "out"
    feed = tmp_path / "feed.xml"
    feed.write_text(ONE_FEED, encoding="utf-8")
    code = main(
        [
            "replay",
            str(feed),
            "--output",
            str(out),
            "--quiet",
            "--runner=FnApiRunner",
            "--max_bytes",
            "1MB",
        ]
    )
    assert code == 0
    assert json.loads((out / "summary.json").read_text())["flagged.any"] == 1


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert re.fullmatch(r"newswatch \S+.*\n", capsys.readouterr().out)


def test_empty_input_warns_and_fails(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    code = main(["replay", str(empty), "--output", str(tmp_path / "out"), "--quiet"])
    assert code == 1
    assert "warning: no input files" in capsys.readouterr().err
    assert not (tmp_path / "out" / "items.jsonl").exists()


def test_input_with_no_entries_warns_and_fails(tmp_path, capsys):
    feed = tmp_path / "empty.xml"
    feed.write_text('<rss version="2.0"><channel><title>Nothing</title></channel></rss>')
    code = main(["replay", str(feed), "--output", str(tmp_path / "out"), "--quiet"])
    assert code == 1
    assert "no entries were read" in capsys.readouterr().err
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["files.empty"] == 1


def test_broken_identities_exit_3(tmp_path, monkeypatch):
    # Only the mapping from a broken summary to the exit status is under test.
    import pipelines.summary

    monkeypatch.setattr(pipelines.summary, "check_identities", lambda counts: ["forced"])
    feed = tmp_path / "feed.xml"
    feed.write_text(ONE_FEED, encoding="utf-8")
    assert main(["replay", str(feed), "--output", str(tmp_path / "out"), "--quiet"]) == 3


def test_failed_run_keeps_old_outputs_and_leaves_no_temp_folders(tmp_path, monkeypatch, capsys):
    import connectors.shards

    out = tmp_path / "out"
    out.mkdir()
    for name in ("items.jsonl", "flagged.jsonl", "dead_letter.jsonl", "summary.json"):
        (out / name).write_text(f"old {name}\n")

    def broken_join(*args, **kwargs):
        # Every shard is written by now; joining them fails.
        raise OSError("disk on fire")

    monkeypatch.setattr(connectors.shards, "join_shards", broken_join)
    code = main(["replay", str(SAMPLES), "--output", str(out), "--quiet"])
    assert code == 1
    assert "the run failed, outputs unchanged" in capsys.readouterr().err
    for name in ("items.jsonl", "flagged.jsonl", "dead_letter.jsonl", "summary.json"):
        assert (out / name).read_text() == f"old {name}\n"
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["items.jsonl", "flagged.jsonl", "dead_letter.jsonl", "summary.json"]
    )


def test_successful_run_replaces_outputs_and_leaves_no_temp_folders(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "items.jsonl").write_text("old\n")
    (out / "notes.txt").write_text("mine\n")
    feed = tmp_path / "feed.xml"
    feed.write_text(ONE_FEED, encoding="utf-8")
    assert main(["replay", str(feed), "--output", str(out), "--quiet"]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["items.jsonl", "flagged.jsonl", "dead_letter.jsonl", "summary.json", "notes.txt"]
    )
    assert json.loads((out / "items.jsonl").read_text().splitlines()[0])["guid"] == "1"


def test_progress_names_the_file_from_the_start(tmp_path):
    feed = tmp_path / "only-feed.xml"
    feed.write_text(ONE_FEED, encoding="utf-8")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipelines.cli",
            "replay",
            str(feed),
            "--output",
            str(tmp_path / "out"),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stderr.splitlines()
    assert any(line.startswith("newswatch: replaying 1 file(s)") for line in lines)
    assert any("progress: reading only-feed.xml" in line for line in lines)
    # The heartbeat's first line comes one second into the command, whatever
    # the run is doing by then (a run over within that second has none).
    beats = [line for line in lines if re.search(r"progress: \d+ s: ", line)]
    assert not beats or "progress: 1 s: " in beats[0], proc.stderr


def test_same_file_name_in_two_folders_keeps_two_stories(tmp_path):
    for folder, story in (("a", "Story from desk A."), ("b", "Another story from desk B.")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "feed.xml").write_text(
            f'<rss version="2.0"><channel><title>Desk</title><item><guid>1</guid><title>{story}'
            f"</title><description>{story}</description></item></channel></rss>"
        )
    out = tmp_path / "out"
    code = main(
        ["replay", str(tmp_path / "a"), str(tmp_path / "b"), "--output", str(out), "--quiet"]
    )
    assert code == 0
    items = [json.loads(line) for line in (out / "items.jsonl").read_text().splitlines()]
    assert sorted(i["origin"] for i in items) == ["a/feed.xml", "b/feed.xml"]
    assert len({i["id"] for i in items}) == 2
    assert not [i for i in items if i["duplicate"]]


def test_corpora_are_found_through_the_environment(tmp_path, monkeypatch):
    from pipelines.commands.common import corpora_dir

    monkeypatch.setenv("NEWSWATCH_CORPORA", str(tmp_path))
    assert corpora_dir() == tmp_path
    monkeypatch.delenv("NEWSWATCH_CORPORA")
    assert corpora_dir().parts[-2:] == ("shared", "corpora")


def test_file_count_covers_only_the_input_folders(tmp_path):
    from connectors.files import expand_inputs
    from pipelines.commands.replay import _local_paths

    for name in ("a/1.xml", "b/2.xml", "c/3.xml", "c/4.xml"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("<rss/>", encoding="utf-8")
    # Two folders share tmp_path as their root; c/ beside them is not an input.
    inputs = expand_inputs([str(tmp_path / "a"), str(tmp_path / "b")])
    assert len(_local_paths(inputs)) == 2
    assert len(_local_paths(expand_inputs([str(tmp_path)]))) == 4


def test_worker_processes_print_no_google_version_warnings(tmp_path):
    feed = tmp_path / "only-feed.xml"
    feed.write_text(ONE_FEED, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}
    proc = subprocess.run(
        [
            sys.executable, "-m", "pipelines.cli", "replay", str(feed), "--quiet",
            "--output", str(tmp_path / "out"), "--runner=DirectRunner",
            "--direct_running_mode=multi_processing", "--direct_num_workers=2",
        ],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    # Each worker imports Google's client libraries, which warn about the
    # versions the pinned Beam brings; the filter reaches the workers.
    assert "FutureWarning" not in proc.stderr, proc.stderr[-2000:]
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["entries.read"] == 1
