"""Saved feed files as a Beam source."""

from __future__ import annotations

import os

import apache_beam as beam
from apache_beam.io.filesystem import FileMetadata
import pytest
from apache_beam.testing.util import assert_that, equal_to

from connectors.files import (
    DEAD_LETTERS,
    FILES,
    ITEMS,
    ReadFeedFiles,
    _ReadAndParseFn,
    expand_inputs,
    relative_name,
)

GOOD = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Good</title>
<item><guid>g-1</guid><title>First</title><description>One.</description></item>
<item><guid>g-2</guid><title>Second</title><description>Two.</description></item>
</channel></rss>"""

EMPTY = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Empty</title></channel></rss>"""

MAX_BYTES = 1024


@pytest.fixture
def feed_dir(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "good.xml").write_bytes(GOOD)
    (tmp_path / "empty.xml").write_bytes(EMPTY)
    (tmp_path / "junk.txt").write_bytes(b"this is not a feed")
    (tmp_path / "big.xml").write_bytes(GOOD.replace(b"One.", b"x" * (MAX_BYTES * 2)))
    assert len(GOOD) < MAX_BYTES
    return tmp_path


# ---------------------------------------------------------------- expand_inputs


def test_expand_directory_is_recursive_pattern(tmp_path):
    assert expand_inputs([str(tmp_path)]) == [(os.path.join(str(tmp_path), "**"), str(tmp_path))]


def test_expand_file_is_itself_with_its_directory_as_root(tmp_path):
    path = tmp_path / "a.xml"
    path.write_bytes(EMPTY)
    assert expand_inputs([str(path)]) == [(str(path), str(tmp_path))]


def test_expand_relative_paths_become_absolute(tmp_path, monkeypatch):
    (tmp_path / "feeds").mkdir()
    monkeypatch.chdir(tmp_path)
    [(pattern, root)] = expand_inputs(["feeds"])
    assert root == str(tmp_path / "feeds") and os.path.isabs(pattern)


def test_expand_missing_path_raises(tmp_path):
    missing = str(tmp_path / "nope")
    with pytest.raises(FileNotFoundError, match="input path does not exist: .*nope"):
        expand_inputs([str(tmp_path), missing])


def test_expand_remote_path_is_a_pattern():
    assert expand_inputs(["gs://bucket/feeds/*.xml"]) == [
        ("gs://bucket/feeds/*.xml", "gs://bucket/feeds")
    ]


# ---------------------------------------------------------------- relative_name


def test_relative_name_uses_the_longest_root():
    roots = ["/data", "/data/feeds", "/data/feeds/"]
    assert relative_name("/data/feeds/ru/a.xml", roots) == "ru/a.xml"
    assert relative_name("/data/other.xml", roots) == "other.xml"


def test_relative_name_outside_every_root_is_unchanged():
    assert relative_name("/elsewhere/a.xml", ["/data"]) == "/elsewhere/a.xml"
    # A root is a directory, not a string prefix.
    assert relative_name("/data2/a.xml", ["/data"]) == "/data2/a.xml"


def test_read_feed_files_refuses_non_positive_max_bytes():
    with pytest.raises(ValueError, match=r"max_bytes must be positive \(got 0\)"):
        ReadFeedFiles([("/x/**", "/x")], max_bytes=0)


# ---------------------------------------------------------------- ReadFeedFiles


def test_read_and_parse_fn_called_directly(feed_dir):
    fn = _ReadAndParseFn([str(feed_dir)], MAX_BYTES, total_files=4)
    fn.setup()
    good = feed_dir / "sub" / "good.xml"
    out = list(fn.read(FileMetadata(str(good), good.stat().st_size)))
    assert [(o.tag, o.value) for o in out[:1]] == [(FILES, "parsed")]
    assert [i.guid for i in out[1:]] == ["g-1", "g-2"]
    big = feed_dir / "big.xml"
    files, dead = fn.read(FileMetadata(str(big), big.stat().st_size))
    assert (files.tag, files.value) == (FILES, "dead_letter")
    assert dead.tag == DEAD_LETTERS
    assert (dead.value.path, dead.value.stage, dead.value.kind) == ("big.xml", "read", "file")
    assert dead.value.reason == f"file is {big.stat().st_size} bytes, over the limit of {MAX_BYTES}"


def test_read_feed_files(pipeline, feed_dir):
    with pipeline as p:
        out = p | ReadFeedFiles(expand_inputs([str(feed_dir)]), max_bytes=MAX_BYTES)
        assert_that(
            out[ITEMS] | "Items" >> beam.Map(lambda i: (i.guid, i.title, i.source.url, i.origin)),
            equal_to(
                [
                    ("g-1", "First", "sub/good.xml", "sub/good.xml"),
                    ("g-2", "Second", "sub/good.xml", "sub/good.xml"),
                ]
            ),
            label="items",
        )
        assert_that(
            out[DEAD_LETTERS] | "Dead" >> beam.Map(lambda d: (d.path, d.stage, d.kind)),
            equal_to([("junk.txt", "parse", "file"), ("big.xml", "read", "file")]),
            label="dead_letters",
        )
        assert_that(
            out[FILES], equal_to(["parsed", "empty", "dead_letter", "dead_letter"]), label="files"
        )


def test_a_file_two_patterns_match_is_read_once(pipeline, feed_dir):
    good = feed_dir / "sub" / "good.xml"
    inputs = [(str(good), str(feed_dir)), (str(feed_dir / "sub" / "*.xml"), str(feed_dir))]
    with pipeline as p:
        out = p | ReadFeedFiles(inputs)
        assert_that(out[ITEMS] | beam.Map(lambda i: i.guid), equal_to(["g-1", "g-2"]))
        assert_that(out[FILES], equal_to(["parsed"]), label="files")


def test_a_pattern_that_matches_nothing_reads_nothing(pipeline, feed_dir):
    with pipeline as p:
        out = p | ReadFeedFiles([(str(feed_dir / "*.none"), str(feed_dir))])
        assert_that(out[ITEMS], equal_to([]))
        assert_that(out[FILES], equal_to([]), label="files")


def test_read_feed_files_single_file_input(pipeline, feed_dir):
    with pipeline as p:
        out = p | ReadFeedFiles(expand_inputs([str(feed_dir / "sub" / "good.xml")]))
        assert_that(
            out[ITEMS] | beam.Map(lambda i: i.source.url), equal_to(["good.xml", "good.xml"])
        )
        assert_that(out[FILES], equal_to(["parsed"]), label="files")
