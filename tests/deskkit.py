"""What the review desk's tests share: flagged items, stores, a served desk.

``sample_store_file()`` runs the real ``newswatch replay samples/feeds --store``
once per test session (the Beam run takes tens of seconds) and tests work on
copies of it. ``served(config)`` (:func:`desk.serving.running`) runs the desk under uvicorn
on a loopback port in a thread, for the browser tests.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from connectors.store import ReviewStore
from desk.serving import running as served
from transforms.item import Flag, Item, MatchedTerm, Report, Source

__all__ = [
    "HOSTILE_TITLE",
    "ROOT",
    "flagged",
    "sample_store_file",
    "served",
    "synthetic_store",
]

ROOT = Path(__file__).resolve().parents[1]
# The onerror handler would set a window flag and call a loopback server: the
# browser test asserts neither happened. PROBE is replaced by that server's URL.
HOSTILE_TITLE = (
    "<img src=x onerror=\"window.__pwned=1;fetch('PROBE/img')\">"
    "<script>window.__pwned=2</script> Shelling of the market, officials say"
)


def flagged(
    n: int,
    *,
    title: str = "Prosecutors open inquiry into the shelling of a market",
    text: str = "Witnesses told investigators that the shelling killed civilians near the market.",
    language: str = "en",
    categories: tuple[str, ...] = ("investigation",),
    source: Source | None = None,
    day: int = 10,
    url: str | None = None,
    links: tuple[str, ...] = (),
    reports: tuple[Report, ...] = (),
    archive=None,
) -> Item:
    """A flagged item whose evidence spans really cover their terms."""
    terms = []
    for field, value, word, gloss in (
        ("title", title, "inquiry", "inquiry"),
        ("text", text, "shelling", "shelling, artillery fire"),
        ("text", text, "civilians", "civilians"),
    ):
        start = value.find(word)
        if start >= 0:
            terms.append(MatchedTerm(word, gloss, field, start, start + len(word), word, "r1"))
    flags = tuple(
        Flag(c, round(0.9 - 0.2 * i, 2), tuple(terms), text[:80], ("r1",))
        for i, c in enumerate(categories)
    )
    return Item(
        source=source or Source("feed", "Example Wire", "https://wire.example/rss", "GB", "wire"),
        guid=f"g{n}",
        url=url if url is not None else f"https://wire.example/news/{n}",
        title=title,
        text=text,
        published=f"2026-03-{day:02d}T08:00:00Z",
        fetched=f"2026-03-{day:02d}T09:{n % 60:02d}:00Z",
        id=f"item{n:04d}",
        language=language,
        flags=flags,
        links=links,
        also_reported_by=reports,
        archive=archive,
    )


def synthetic_store(path: Path, items: list[Item]) -> Path:
    with ReviewStore(path) as store, store.transaction():
        for item in items:
            store.upsert_item(item)
    return path


@functools.cache
def _sample_store() -> Path:
    out = Path(tempfile.mkdtemp(prefix="desk-samples-"))
    atexit.register(shutil.rmtree, out, True)
    store = out / "review.db"
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "replay", str(ROOT / "samples" / "feeds"),
         "--output", str(out), "--store", str(store), "--quiet"],
        check=False, cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "store" in done.stdout, done.stdout
    return out


def sample_store_file(target: Path) -> tuple[Path, Path]:
    """A copy of the store built from the bundled samples, and the replay's flagged.jsonl."""
    out = _sample_store()
    shutil.copy(out / "review.db", target)
    return target, out / "flagged.jsonl"
