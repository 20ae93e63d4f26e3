"""One copy of lingua's high-accuracy models per machine: real processes, real sockets, real texts.

The texts are word pairs of the langid corpus on which CLD2 and lingua's
low-accuracy mode disagree, so the cascade asks the high-accuracy model;
all Cyrillic, so only the Cyrillic languages' models load (about a second).
"""

from __future__ import annotations

import json
import operator
import os
import subprocess
import sys
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.util import assert_that, equal_to

from transforms.langid_backends import LinguaDetector
from transforms.language import CascadeDetector, DetectLanguage
from transforms.language_shared import SharedAccurate, forget, new_tag, shared_dir, take_copies

ROOT = Path(__file__).resolve().parents[1]

_CLIENT = """
import json, sys
from transforms import langid_backends
from transforms.language_shared import SharedAccurate, take_copies
texts = json.loads(sys.stdin.read())
shared = SharedAccurate(sys.argv[1])
out = [list(shared.detect(text)) for text in texts]
print(json.dumps({"out": out, "copies": take_copies(), "local": shared.is_local,
                  "models": len(langid_backends._lingua_models)}))
"""

_HOLDER = """
import sys
from transforms.language_shared import SharedAccurate
shared = SharedAccurate(sys.argv[1])
shared.detect(sys.argv[2])
print("holding", flush=True)
sys.stdin.read()  # until the test closes it
"""


@pytest.fixture(scope="module")
def disputed(corpora) -> list[str]:
    """Cyrillic word pairs the cascade sends to the high-accuracy model."""
    cascade = CascadeDetector()
    texts = []
    for language in ("ru", "bg"):
        lines = (corpora / "langid" / "word-pairs" / f"{language}.txt").read_text("utf-8")
        for line in lines.splitlines()[:200]:
            before = cascade.escalated
            cascade.detect(line.strip())
            if cascade.escalated != before:
                texts.append(line.strip())
    assert len(texts) >= 40
    return texts


@pytest.fixture
def tag():
    made = new_tag()
    yield made
    forget(made)


def _rounded(answers) -> list[list]:
    # lingua's confidences vary in their last digits from call to call (the
    # item keeps four): compare six.
    return [[code, round(confidence, 6)] for code, confidence in answers]


def _answers(texts: list[str]) -> list[list]:
    own = LinguaDetector(low_accuracy=False, lazy=True)
    return _rounded(own.detect(text) for text in texts)


def _client(tag: str, texts: list[str]) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", _CLIENT, tag], input=json.dumps(texts), cwd=ROOT,
        capture_output=True, text=True, check=True, timeout=120,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_second_process_asks_the_first_ones_copy_and_loads_none(tag, disputed):
    take_copies()
    holder = SharedAccurate(tag)
    here = _rounded(holder.detect(text) for text in disputed)
    assert take_copies() == 1 and not holder.is_local
    assert here == _answers(disputed)
    other = _client(tag, disputed)
    # The same answers, from this process's copy: the other built no lingua model at all.
    assert {**other, "out": _rounded(other["out"])} == {
        "out": here, "copies": 0, "local": False, "models": 0
    }


def test_when_the_holder_ends_the_next_caller_holds_a_new_copy(tag, disputed):
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, tag, disputed[0]], cwd=ROOT, text=True,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        take_copies()
        shared = SharedAccurate(tag)
        first = list(shared.detect(disputed[1]))
        assert take_copies() == 0 and shared.reconnects == 0
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
    assert holder.returncode == 0
    # The holder is gone: one reconnect, and this process now holds the copy.
    second = list(shared.detect(disputed[2]))
    assert shared.reconnects == 1 and take_copies() == 1 and not shared.is_local
    assert _rounded([first, second]) == _answers(disputed[1:3])


def test_a_share_that_cannot_be_made_falls_back_to_an_own_copy(tag, disputed):
    # The lock file's place is taken by a folder: no process can hold the share.
    os.mkdir(os.path.join(shared_dir(), tag + ".lock"))
    try:
        take_copies()
        shared = SharedAccurate(tag)
        answers = _rounded(shared.detect(text) for text in disputed[:5])
        assert shared.is_local and take_copies() == 1
        assert answers == _answers(disputed[:5])
    finally:
        os.rmdir(os.path.join(shared_dir(), tag + ".lock"))


def test_forget_removes_the_runs_files(disputed):
    made = new_tag()
    SharedAccurate(made).detect(disputed[0])
    base = os.path.join(shared_dir(), made)
    assert os.path.exists(base + ".address") and os.path.exists(base + ".lock")
    forget(made)
    assert not os.path.exists(base + ".address") and not os.path.exists(base + ".lock")
    forget(made)  # twice is harmless


def test_two_worker_processes_load_one_copy(tag, disputed, make_item):
    items = [make_item(guid=f"g{i}", title=text, text="") for i, text in enumerate(disputed)]
    cascade = CascadeDetector()
    expected = [(item.guid, cascade.detect(text)[0]) for item, text in zip(items, disputed)]
    options = PipelineOptions(
        ["--direct_running_mode=multi_processing", "--direct_num_workers=2"]
    )
    p = beam.Pipeline(runner="DirectRunner", options=options)
    out = (
        p
        | beam.Create(items, reshuffle=True)
        | DetectLanguage(shared=tag)
        # Workers are fresh interpreters: nothing from this module may go to them.
        | beam.Map(operator.attrgetter("guid", "language"))
    )
    assert_that(out, equal_to(expected))
    result = p.run()
    result.wait_until_finish()
    copies = result.metrics().query(
        beam.metrics.MetricsFilter().with_name("language_accurate_copies")
    )["counters"]
    assert sum(c.committed for c in copies) == 1
