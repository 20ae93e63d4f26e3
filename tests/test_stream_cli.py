"""``newswatch stream``: option checks and the one-line errors before any job starts."""

from __future__ import annotations

import pytest

from pipelines.cli import main
from pipelines.launch import format_counters, stream_config
from tests.streamkit import Topics

SUB = "projects/newswatch-test/subscriptions/raw-items"
TOPIC = "projects/newswatch-test/topics/flagged-items"


def test_stream_config_validates_each_option():
    config = stream_config({"subscription": SUB, "flagged_topic": TOPIC, "window_seconds": "60"})
    assert config.subscription == SUB and config.window_seconds == 60
    assert config.dead_letter_topic is None and config.output is None
    with pytest.raises(ValueError, match="--subscription is required"):
        stream_config({"flagged_topic": TOPIC})
    with pytest.raises(ValueError, match=r"projects/<p>/subscriptions/<s> \(got 'raw'\)"):
        stream_config({"subscription": "raw", "flagged_topic": TOPIC})
    with pytest.raises(ValueError, match=r"topics/<t> \(got 'projects/p/topics/x'\)"):
        stream_config({"subscription": SUB, "flagged_topic": "projects/p/topics/x"})
    with pytest.raises(ValueError, match=r"positive integer \(got '0'\)"):
        stream_config({"subscription": SUB, "flagged_topic": TOPIC, "window_seconds": "0"})
    with pytest.raises(ValueError, match="language_backend"):
        stream_config({"subscription": SUB, "flagged_topic": TOPIC, "language_backend": "x"})


def test_status_line_names_every_stage_count():
    line = format_counters(
        {
            "entries.read": 12,
            "entries.unique": 9,
            "duplicates.url": 2,
            "duplicates.id": 1,
            "flagged.any": 3,
            "flagged.investigation": 3,
            "language.en": 5,
            "language.uk": 4,
            "late": 1,
            "entries.dead_letter": 0,
        }
    )
    assert line.startswith("received 12 | unique 9 | duplicates 3 | flagged 3 (investigation 3)")
    assert "languages en 5 uk 4 | late 1 | dead letters 0" in line


def test_id_label_is_refused_off_dataflow(capsys):
    code = main(
        ["stream", "--subscription", SUB, "--flagged_topic", TOPIC, "--id_label", "item_id"]
    )
    assert code == 2
    assert "--id_label works only on --runner=DataflowRunner" in capsys.readouterr().err


def test_missing_subscription_is_one_line(pubsub_emulator, capsys):
    topics = Topics(pubsub_emulator)
    try:
        topic, _ = topics.pair("flagged")
        missing = pubsub_emulator.names("gone")[1]
        code = main(["stream", "--subscription", missing, "--flagged_topic", topic])
    finally:
        topics.close()
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err == (
        f"newswatch: error: Pub/Sub subscription {missing} does not exist"
        f" (at {pubsub_emulator.host})"
    )


def test_unreachable_endpoint_is_one_line(monkeypatch, capsys):
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", f"127.0.0.1:{port}")
    code = main(["stream", "--subscription", SUB, "--flagged_topic", TOPIC])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.startswith(f"newswatch: error: cannot reach Pub/Sub at 127.0.0.1:{port}: ")
    assert "\n" not in err
