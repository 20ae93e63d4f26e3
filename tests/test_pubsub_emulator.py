"""The emulator fixture gives a working Pub/Sub: a message published is pulled back."""

from __future__ import annotations


def test_publish_and_pull_round_trip(pubsub_emulator):
    from google.cloud import pubsub_v1

    topic, subscription = pubsub_emulator.names("fixture")
    publisher = pubsub_v1.PublisherClient()
    subscriber = pubsub_v1.SubscriberClient()
    publisher.create_topic(name=topic)
    try:
        subscriber.create_subscription(name=subscription, topic=topic)
        publisher.publish(topic, b"hello", kind="item").result(timeout=30)
        response = subscriber.pull(subscription=subscription, max_messages=10, timeout=30)
        messages = [m.message for m in response.received_messages]
        assert [(m.data, dict(m.attributes)) for m in messages] == [(b"hello", {"kind": "item"})]
    finally:
        subscriber.delete_subscription(subscription=subscription)
        publisher.delete_topic(topic=topic)
        subscriber.close()
