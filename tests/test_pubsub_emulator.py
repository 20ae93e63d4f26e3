"""The emulator fixture gives a working Pub/Sub: a message published is pulled back."""

from __future__ import annotations


def test_publish_and_pull_round_trip(pubsub_emulator):
    from tests.streamkit import Topics

    topics = Topics(pubsub_emulator)
    try:
        topic, subscription = topics.pair("fixture")
        topics.publish(topic, [(b"hello", {"kind": "item"})])
        response = topics.subscriber.pull(subscription=subscription, max_messages=10, timeout=30)
        messages = [m.message for m in response.received_messages]
        assert [(m.data, dict(m.attributes)) for m in messages] == [(b"hello", {"kind": "item"})]
    finally:
        topics.close()
