"""End-to-end replays through the CLI: samples, the real corpus, the seeds."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from pipelines.cli import main
from pipelines.summary import check_identities

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def replay(tmp: Path, *paths: Path | str, extra: tuple[str, ...] = ()) -> dict:
    out = tmp / "out"
    code = main(["replay", *map(str, paths), "--output", str(out), "--quiet", *extra])
    counts = json.loads((out / "summary.json").read_text())
    return {
        "code": code,
        "counts": counts,
        "items": read_jsonl(out / "items.jsonl"),
        "flagged": read_jsonl(out / "flagged.jsonl"),
        "dead": read_jsonl(out / "dead_letter.jsonl"),
    }


@pytest.fixture(scope="module")
def samples_run(tmp_path_factory) -> dict:
    return replay(tmp_path_factory.mktemp("samples"), SAMPLES / "feeds")


def expected() -> list[dict]:
    return read_jsonl(SAMPLES / "expected.jsonl")


def test_samples_flagged_exactly_as_expected(samples_run):
    assert samples_run["code"] == 0
    must_flag = {e["guid"] for e in expected() if e["flag"]}
    flagged = {item["guid"] for item in samples_run["flagged"]}
    assert flagged == must_flag
    for item in samples_run["flagged"]:
        assert item["flags"], item["guid"]
        for flag in item["flags"]:
            assert 0 < flag["score"] <= 1 and flag["snippet"] and flag["terms"]
            for term in flag["terms"]:
                assert item[term["field"]][term["start"] : term["end"]] == term["text"]


def test_samples_categories_languages_and_duplicates(samples_run):
    by_guid = {item["guid"]: item for item in samples_run["items"]}
    assert set(by_guid) == {e["guid"] for e in expected()}
    ids = {guid: item["id"] for guid, item in by_guid.items()}
    for e in expected():
        item = by_guid[e["guid"]]
        assert item["language"] == e["language"], (e["guid"], e["note"])
        got = {f["category"] for f in item["flags"]}
        assert set(e["categories"]) <= got, (e["guid"], e["note"], got)
        if e["duplicate_of"]:
            assert item["duplicate"]["of"] == ids[e["duplicate_of"]], e["guid"]
        else:
            assert item["duplicate"] is None, (e["guid"], item["duplicate"])


def test_samples_summary_identities(samples_run):
    counts = samples_run["counts"]
    assert check_identities(counts) == []
    assert counts["entries.read"] == len(expected())
    assert counts["entries.unique"] == len(samples_run["items"]) - counts.get(
        "entries.duplicate", 0
    )


def test_replay_is_deterministic(tmp_path, samples_run):
    again = replay(tmp_path, SAMPLES / "feeds")
    for name in ("items", "flagged", "dead"):
        first = sorted(json.dumps(r, sort_keys=True) for r in samples_run[name])
        second = sorted(json.dumps(r, sort_keys=True) for r in again[name])
        assert first == second, name


def test_seed_articles_are_flagged_in_english(tmp_path, corpora):
    seeds = sorted((corpora.parent / "seeds").glob("*.txt"))
    assert len(seeds) == 2
    entries = []
    for i, path in enumerate(seeds):
        lines = path.read_text(encoding="utf-8").strip().splitlines()
        title, body = lines[0], "\n".join(lines[1:])
        entries.append(
            {
                "id": f"seed-{i}",
                "url": f"https://seeds.example/{i}",
                "title": title,
                "content_text": body,
            }
        )
    feed = {"version": "https://jsonfeed.org/version/1.1", "title": "Seeds", "items": entries}
    (tmp_path / "seeds.json").write_text(json.dumps(feed), encoding="utf-8")
    run = replay(tmp_path, tmp_path / "seeds.json")
    assert len(run["flagged"]) == 2
    for item in run["flagged"]:
        assert item["language"] == "en"
        categories = {f["category"] for f in item["flags"]}
        assert categories & {"war_crime_allegation", "investigation"}
        assert all(f["terms"] and f["snippet"] for f in item["flags"])


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory, corpora) -> dict:
    return replay(tmp_path_factory.mktemp("corpus"), corpora / "feeds")


def test_corpus_replay_identities_hold(corpus_run, corpora):
    counts = corpus_run["counts"]
    assert corpus_run["code"] == 0
    assert check_identities(counts) == []
    files = sum(1 for p in (corpora / "feeds").rglob("*") if p.is_file())
    assert counts["files.parsed"] + counts["files.empty"] + counts["files.dead_letter"] == files
    assert counts["entries.unique"] + counts["entries.duplicate"] == len(corpus_run["items"])
    dead_entries = sum(1 for d in corpus_run["dead"] if d["kind"] == "entry")
    assert dead_entries == counts["entries.dead_letter"]
    assert all(d["reason"] and d["stage"] and d["path"] for d in corpus_run["dead"])


def test_corpus_entry_counts_match_feedparser_index(corpus_run, corpora):
    base = corpora / "feeds" / "real" / "fastfeedparser-benchmark"
    per_file = Counter(item["origin"] for item in corpus_run["items"])
    per_file.update(d["path"] for d in corpus_run["dead"] if d["kind"] == "entry")
    with (base / "INDEX.tsv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    assert len(rows) == 200
    checked = 0
    for row in rows:
        name = f"real/fastfeedparser-benchmark/{row['file']}"
        got = per_file.get(name, 0)
        if (base / row["file"]).read_bytes().lstrip().startswith(b"{"):
            # feedparser cannot read JSON Feed, so the index records 0 for it;
            # our JSON Feed reader must find at least that many.
            assert got >= int(row["n_entries"]), name
            continue
        assert got == int(row["n_entries"]), name
        checked += 1
    assert checked >= 195


def test_cli_rejects_bad_arguments_in_one_line(tmp_path):
    missing = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipelines.cli",
            "replay",
            str(tmp_path / "nope"),
            "--output",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert missing.returncode == 2
    assert missing.stderr.strip().count("\n") == 0 and "does not exist" in missing.stderr
    blocker = tmp_path / "file"
    blocker.write_text("x")
    unwritable = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipelines.cli",
            "replay",
            str(SAMPLES / "feeds"),
            "--output",
            str(blocker / "sub"),
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert unwritable.returncode == 2 and "output directory" in unwritable.stderr
    assert "Traceback" not in unwritable.stderr


def test_cli_help_explains_options():
    result = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "replay", "--help"],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert result.returncode == 0
    for option in ("--output", "--language_backend", "--thresholds", "--max_bytes", "--runner"):
        assert option in result.stdout
