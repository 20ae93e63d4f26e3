"""Shared fixtures: the real corpora, the shipped rule engine, raw items."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from transforms.item import Item, Source

# CI has the shared corpora beside the checkout (<repo>/../shared/corpora);
# NEWSWATCH_CORPORA points elsewhere when they are not.
CORPORA = Path(
    os.environ.get("NEWSWATCH_CORPORA")
    or Path(__file__).resolve().parents[2] / "shared" / "corpora"
)

# Batch tests force the in-process runner: plain DirectRunner first tries to
# download Prism, which fails offline and only wastes time.
FAST_RUNNER = ["--runner=apache_beam.runners.portability.fn_api_runner.FnApiRunner"]


@pytest.fixture(scope="session")
def corpora() -> Path:
    if not CORPORA.is_dir():
        pytest.skip(
            f"real corpora not found at {CORPORA} (expected ../shared/corpora beside the checkout)"
        )
    return CORPORA


@pytest.fixture(scope="session")
def engine():
    from transforms.rules import RuleEngine

    return RuleEngine.load()


@pytest.fixture
def pipeline():
    """A TestPipeline on the fast in-process runner; use as ``with pipeline as p:``."""
    from apache_beam.options.pipeline_options import PipelineOptions
    from apache_beam.testing.test_pipeline import TestPipeline

    import transforms.coders  # noqa: F401 - records cross the runner with their JSON coder

    return TestPipeline(options=PipelineOptions(FAST_RUNNER))


@pytest.fixture
def make_item() -> Callable[..., Item]:
    """Factory for raw items (as a connector emits them); keyword overrides win."""

    def factory(**overrides: Any) -> Item:
        fields: dict[str, Any] = {
            "source": Source(kind="feed", name="Example Wire", url="https://wire.example/rss"),
            "guid": "wire-1",
            "url": "https://wire.example/news/1",
            "title": "Investigators collect testimony in the eastern region",
            "text": "<p>Investigators said on Tuesday that they had collected testimony.</p>",
            "published": "2026-03-10T08:00:00Z",
            "fetched": "2026-03-10T09:00:00Z",
        }
        fields.update(overrides)
        return Item(**fields)

    return factory


@pytest.fixture
def server():
    """A real HTTP server on 127.0.0.1 (tests/localserver.py); add routes with ``server.route``."""
    from tests.localserver import LocalServer

    with LocalServer() as srv:
        yield srv


@pytest.fixture(scope="session")
def pubsub_emulator(tmp_path_factory):
    """The real Pub/Sub emulator on 127.0.0.1, for the whole session.

    Sets ``PUBSUB_EMULATOR_HOST`` for this process (and the subprocesses it
    starts) while it runs. Topics and subscriptions: ``pubsub_emulator.names()``.
    """
    from tests.pubsub_emulator import Emulator, emulator_binary

    binary = emulator_binary()
    if binary is None:
        pytest.skip("Pub/Sub emulator not found (gcloud's platform/pubsub-emulator)")
    emulator = Emulator(binary, tmp_path_factory.mktemp("pubsub") / "emulator.log")
    previous = os.environ.get("PUBSUB_EMULATOR_HOST")
    try:
        emulator.wait_ready()
        os.environ["PUBSUB_EMULATOR_HOST"] = emulator.host
        yield emulator
    finally:
        if previous is None:
            os.environ.pop("PUBSUB_EMULATOR_HOST", None)
        else:
            os.environ["PUBSUB_EMULATOR_HOST"] = previous
        emulator.stop()
