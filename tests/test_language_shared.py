"""One model server per machine for lingua's high-accuracy answers: real processes and texts.

The texts are word pairs of the langid corpus on which CLD2 and lingua's
low-accuracy mode disagree, so the cascade asks the high-accuracy model;
all Cyrillic, so only the Cyrillic languages' models load (about a second).
"""

from __future__ import annotations

import contextlib
import json
import operator
import os
import subprocess
import sys
import threading
from multiprocessing import AuthenticationError
from multiprocessing.connection import Client, Listener
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.transforms.window import GlobalWindow, IntervalWindow
from apache_beam.utils.timestamp import MIN_TIMESTAMP, Timestamp

from transforms.langid_backends import LinguaDetector
from transforms.language import CascadeDetector
from transforms.language_shared import (
    SharedAccurate,
    forget,
    new_tag,
    paths,
    shared_dir,
    take_copies,
)
from transforms import language_shared
from transforms import language_stage
from transforms.item import DEAD_LETTER_TAG
from transforms.language_stage import DetectLanguage, _DetectFn

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
from transforms.language_shared import SharedAccurate, forget
shared = SharedAccurate(sys.argv[1])
shared.detect(sys.argv[2])  # starts the server, as this process's child
print("holding", flush=True)
sys.stdin.read()  # until the test closes it
forget(sys.argv[1])  # ends the server and waits for it
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


def test_a_second_process_asks_the_same_server_and_loads_none(tag, disputed):
    take_copies()
    shared = SharedAccurate(tag)
    here = _rounded(shared.detect(text) for text in disputed)
    assert take_copies() == 1 and not shared.is_local
    assert here == _answers(disputed)
    other = _client(tag, disputed)
    # The same answers, from the same server: the other process built no lingua model.
    assert {**other, "out": _rounded(other["out"])} == {
        "out": here, "copies": 0, "local": False, "models": 0
    }


def test_submitted_texts_are_answered_in_order(tag, disputed):
    shared = SharedAccurate(tag)
    for text in disputed:
        shared.submit(text)
    assert shared.waiting == len(disputed)
    answers = [shared.take() for _ in disputed]
    assert shared.waiting == 0 and not shared.ready()
    assert _rounded(answers) == _answers(disputed)
    with pytest.raises(IndexError):
        shared.take()


def test_detect_refuses_while_submitted_answers_wait(tag, disputed):
    shared = SharedAccurate(tag)
    shared.submit(disputed[0])
    with pytest.raises(RuntimeError, match="1 submitted answer"):
        shared.detect(disputed[1])
    assert _rounded([shared.take()]) == _answers(disputed[:1])
    assert _rounded([shared.detect(disputed[1])]) == _answers(disputed[1:2])


def test_a_caller_without_the_key_is_refused_and_the_server_goes_on(tag, disputed):
    shared = SharedAccurate(tag)
    first = shared.detect(disputed[0])
    _, address = paths(tag)
    with open(address, encoding="ascii") as handle:
        host, port, _key = handle.read().split()
    assert oct(os.stat(address).st_mode & 0o777) == "0o600"
    with pytest.raises(AuthenticationError):
        Client((host, int(port)), authkey=b"a guess")
    second = SharedAccurate(tag).detect(disputed[1])
    assert _rounded([first, second]) == _answers(disputed[:2])


def test_an_address_file_naming_another_listener_starts_a_server(tag, disputed):
    # A server that died without removing its file, its port now someone else's.
    other = Listener(("127.0.0.1", 0), authkey=b"not the server's key")

    def refuse() -> None:
        with contextlib.suppress(Exception):
            other.accept()

    door = threading.Thread(target=refuse, daemon=True)
    door.start()
    _, address = paths(tag)
    with open(address, "w", encoding="ascii") as handle:
        handle.write(f"127.0.0.1 {other.address[1]} {os.urandom(16).hex()}")
    try:
        take_copies()
        shared = SharedAccurate(tag)
        answer = shared.detect(disputed[0])
        assert take_copies() == 1 and not shared.is_local and shared.reconnects == 0
        assert _rounded([answer]) == _answers(disputed[:1])
    finally:
        door.join(timeout=30)
        other.close()


def test_the_servers_failure_on_a_text_is_raised_for_that_text(tag, disputed):
    shared = SharedAccurate(tag)
    shared.submit(disputed[0])
    shared.submit(None)  # not a text: lingua fails on it in the server
    shared.submit(disputed[1])
    assert _rounded([shared.take()]) == _answers(disputed[:1])
    with pytest.raises(RuntimeError, match="language model server: .*Error"):
        shared.take()
    assert _rounded([shared.take()]) == _answers(disputed[1:2])


def test_when_the_server_ends_the_caller_starts_a_new_one(tag, disputed):
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, tag, disputed[0]], cwd=ROOT, text=True,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        take_copies()
        shared = SharedAccurate(tag)
        first = shared.detect(disputed[1])
        assert take_copies() == 0 and shared.reconnects == 0
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
    assert holder.returncode == 0
    assert not any(os.path.exists(path) for path in paths(tag))  # the server cleaned up
    # Its server is gone: one reconnect, which starts a new server from this process.
    second = shared.detect(disputed[2])
    assert shared.reconnects == 1 and take_copies() == 1 and not shared.is_local
    assert _rounded([first, second]) == _answers(disputed[1:3])


def test_a_server_that_cannot_start_falls_back_to_an_own_copy(tag, disputed):
    # The lock file's place is taken by a folder: no server can be started.
    lock, _ = paths(tag)
    os.mkdir(lock)
    try:
        take_copies()
        shared = SharedAccurate(tag)
        answers = _rounded(shared.detect(text) for text in disputed[:5])
        assert shared.is_local and take_copies() == 1
        assert answers == _answers(disputed[:5])
    finally:
        os.rmdir(lock)


def test_forget_ends_the_server_and_removes_its_files(disputed):
    made = new_tag()
    SharedAccurate(made).detect(disputed[0])
    server = language_shared._started[made][0]
    assert all(os.path.exists(path) for path in paths(made))
    forget(made)
    assert server.returncode == 0
    assert not any(os.path.exists(path) for path in paths(made))
    forget(made)  # twice is harmless
    assert os.path.isdir(shared_dir())


def _expected(items, texts) -> list[tuple[str, str]]:
    cascade = CascadeDetector()
    return [(item.guid, cascade.detect(text)[0]) for item, text in zip(items, texts)]


def test_two_worker_processes_ask_one_server(tag, disputed, make_item):
    items = [make_item(guid=f"g{i}", title=text, text="") for i, text in enumerate(disputed)]
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
    assert_that(out, equal_to(_expected(items, disputed)))
    result = p.run()
    result.wait_until_finish()
    copies = result.metrics().query(
        beam.metrics.MetricsFilter().with_name("language_accurate_copies")
    )["counters"]
    assert sum(c.committed for c in copies) == 1


def test_a_caller_goes_on_while_the_server_cannot_answer_its_handshake(tag, disputed):
    # A server loading its models holds its interpreter's lock and answers no
    # new caller's handshake until it is done: here a listener that the test
    # has not yet accepted on stands for it.
    key = os.urandom(16)
    busy = Listener(("127.0.0.1", 0), authkey=key)
    _, address = paths(tag)
    with open(address, "w", encoding="ascii") as handle:
        handle.write(f"127.0.0.1 {busy.address[1]} {key.hex()}")
    shared = SharedAccurate(tag)
    submitting = threading.Thread(
        target=lambda: [shared.submit(text) for text in disputed[:3]], daemon=True
    )
    submitting.start()
    submitting.join(timeout=60)
    received = []

    def answer(conn) -> None:
        for number in range(3):
            received.append(conn.recv())
            conn.send(("ok", ("xx", number / 10)))

    try:
        # Submitted without a handshake: nothing can be answered yet.
        assert not submitting.is_alive()
        assert shared.waiting == 3 and not shared.ready() and shared.loaded
        conn = busy.accept()  # the handshake, at last
        server = threading.Thread(target=answer, args=(conn,), daemon=True)
        server.start()
        # The texts go on the connection once it is made, in order.
        assert [shared.take() for _ in range(3)] == [("xx", 0.0), ("xx", 0.1), ("xx", 0.2)]
        server.join(timeout=60)
        assert received == disputed[:3] and shared.reconnects == 0
    finally:
        busy.close()


def _bundle(fn, items, window, timestamp):
    """The stage's output for one bundle: (what process gave, what finish_bundle gave)."""
    fn.start_bundle()
    early = [out for item in items for out in fn.process(item, timestamp, window)]
    return early, list(fn.finish_bundle())


def test_the_stage_goes_on_and_lets_the_models_items_go_at_the_bundles_end(
    tag, disputed, make_item
):
    sure = [
        "Investigators said on Tuesday that they had collected testimony from survivors.",
        "Die Ermittler sagten am Dienstag, sie hätten Aussagen von Überlebenden gesammelt.",
    ]
    # Model texts among sure ones, one of them twice.
    texts = [disputed[0], sure[0], disputed[1], disputed[0], sure[1], disputed[2]]
    items = [make_item(guid=f"g{i}", title=text, text="") for i, text in enumerate(texts)]
    fn = _DetectFn("cascade", isolate=True, shared=tag)
    fn.setup()
    window, timestamp = IntervalWindow(0, 60), Timestamp(30)
    fn.start_bundle()
    early = [out for item in items for out in fn.process(item, timestamp, window)]
    # Four items wait; the copy of disputed[0] waits for the same answer: three texts sent.
    assert len(fn._waiting) == 4 and fn._accurate.waiting == 3
    late = list(fn.finish_bundle())
    assert [item.guid for item in early] == ["g1", "g4"]
    assert [value.value.guid for value in late] == ["g0", "g2", "g3", "g5"]
    assert all(v.windows == (window,) and v.timestamp == timestamp for v in late)
    cascade = CascadeDetector()
    assert [(o.guid, o.language) for o in [*early, *(v.value for v in late)]] == [
        (items[i].guid, cascade.detect(texts[i])[0]) for i in (1, 4, 0, 2, 3, 5)
    ]
    assert fn._accurate.waiting == 0 and not fn._waiting
    # The same bundle again gives the same output, whenever the answers come.
    fn2 = _DetectFn("cascade", isolate=True, shared=tag)
    fn2.setup()
    again = _bundle(fn2, items, window, timestamp)
    assert [o.guid for o in again[0]] + [v.value.guid for v in again[1]] == [
        o.guid for o in early
    ] + [v.value.guid for v in late]


def test_the_stage_lets_its_waiting_items_go_when_max_waiting_wait(
    tag, disputed, make_item, monkeypatch
):
    monkeypatch.setattr(language_stage, "MAX_WAITING", 2)
    items = [make_item(guid=f"g{i}", title=text, text="") for i, text in enumerate(disputed[:3])]
    fn = language_stage._DetectFn("cascade", isolate=True, shared=tag)
    fn.setup()
    fn.start_bundle()
    outputs = [[v.value.guid for v in fn.process(item, MIN_TIMESTAMP, GlobalWindow())]
               for item in items]
    assert outputs == [[], ["g0", "g1"], []]
    assert [v.value.guid for v in fn.finish_bundle()] == ["g2"]


def test_a_server_error_makes_its_items_dead_letters_in_their_window(
    tag, disputed, make_item, monkeypatch
):
    texts = [disputed[0], disputed[1], disputed[0]]
    items = [make_item(guid=f"g{i}", title=text, text="") for i, text in enumerate(texts)]
    fn = _DetectFn("cascade", isolate=True, shared=tag)
    fn.setup()
    take = fn._accurate.take
    failed = []

    def fail_first():
        answer = take()  # the server's answer is taken in any case
        if not failed:
            failed.append(1)
            raise RuntimeError("language model server: a broken text")
        return answer

    monkeypatch.setattr(fn._accurate, "take", fail_first)
    window, timestamp = IntervalWindow(0, 60), Timestamp(30)
    early, late = _bundle(fn, items, window, timestamp)
    assert early == []
    # Both copies of the failed text are dead letters, the other item goes on.
    dead = [v for v in late if isinstance(v, beam.pvalue.TaggedOutput)]
    assert [d.tag for d in dead] == [DEAD_LETTER_TAG, DEAD_LETTER_TAG]
    assert all(d.value.windows == (window,) for d in dead)
    assert [d.value.value.stage for d in dead] == ["language", "language"]
    assert all("a broken text" in d.value.value.reason for d in dead)
    good = [v for v in late if not isinstance(v, beam.pvalue.TaggedOutput)]
    assert [v.value.guid for v in good] == ["g1"] and fn._accurate.waiting == 0


def test_a_new_bundle_drops_the_answers_a_failed_bundle_left(tag, disputed, make_item):
    cascade = CascadeDetector()
    first = disputed[0]
    second = next(t for t in disputed if cascade.detect(t)[0] != cascade.detect(first)[0])
    fn = _DetectFn("cascade", isolate=True, shared=tag)
    fn.setup()
    fn.start_bundle()
    assert list(fn.process(make_item(guid="a", title=first, text=""), MIN_TIMESTAMP,
                           GlobalWindow())) == []
    # That bundle failed before its end; the runner starts another on the same DoFn.
    early, late = _bundle(fn, [make_item(guid="b", title=second, text="")], GlobalWindow(),
                          MIN_TIMESTAMP)
    assert early == [] and [v.value.guid for v in late] == ["b"]
    assert late[0].value.language == cascade.detect(second)[0]
