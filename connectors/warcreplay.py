"""A WARC file written by the poller, read back into the raw items the live run produced.

Each ``response`` record with a 2xx status whose ``Newswatch-Source`` names
a connector kind is read by that connector's own ``parse`` (the function the
live poll uses), and the items are stamped with the configured country,
affiliation and language as the poller stamps them. Article pages archived
for those items (context ``role: article``, see :mod:`connectors.articles`)
are then applied to the items of the same file whose article link matches,
with the same :func:`connectors.articles.apply_article`. So, normalised, the
items are the live run's: same ids, same fields.

Other records are skipped and counted: requests, ``warcinfo``, robots.txt
fetches, 304s and other non-2xx answers, records without a source. A record
that cannot be read (a file cut short by a killed process) becomes a dead
letter, and what came before it is kept. The outcome of a file follows the
feed files' convention (``parsed``, ``empty``, ``dead_letter``) so the run
summary's identities hold.

This module does not import Beam.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import IO, Any

from connectors.articles import ARTICLE_ROLE, apply_article, article_url
from connectors.base import SourceConfig, connector_class
from connectors.http import Response
from connectors.rounds import stamp
from connectors.warcread import read_warc
from transforms.item import DeadLetter, Item

__all__ = ["WarcOutcome", "replay_warc", "source_config"]

_RAW_EXCERPT = 2000
_CONFIG_KEYS = ("name", "kind", "url", "country", "language", "affiliation")


@dataclass(frozen=True, slots=True)
class WarcOutcome:
    """What became of one WARC file.

    Attributes:
        path: the file's name as given.
        status: ``parsed`` (items or entry dead letters), ``empty`` (nothing
            to read), or ``dead_letter`` (not a readable WARC file at all).
        items: raw items, enriched with their archived articles.
        dead_letters: one per unreadable record or unparseable entry
            (``kind="entry"``), or one for the whole file (``kind="file"``).
        skipped: records that hold no items, by why (``request``,
            ``not_modified``, ``status_404``, ``robots`` ...).
        articles_applied: items that received their archived article's text.
    """

    path: str
    status: str
    items: tuple[Item, ...] = ()
    dead_letters: tuple[DeadLetter, ...] = ()
    skipped: Mapping[str, int] | None = None
    articles_applied: int = 0


def source_config(context: Mapping[str, Any]) -> SourceConfig:
    """The :class:`SourceConfig` a response was fetched for, from its archived context.

    Inverse of :meth:`SourceConfig.to_dict`.

    Raises:
        ValueError: the context names no kind or no name.
    """
    if not context.get("kind") or not context.get("name"):
        raise ValueError(f"archived source has no kind or name (got {dict(context)!r})")
    known = {k: context.get(k) for k in _CONFIG_KEYS}
    options = {k: v for k, v in context.items() if k not in _CONFIG_KEYS}
    return SourceConfig(options=options, **known)  # type: ignore[arg-type]


def _as_entry(letter: DeadLetter, name: str) -> DeadLetter:
    # A record is one entry of the WARC file: a whole unreadable response is
    # an entry dead letter here, so the file counts stay consistent.
    stage = letter.stage if letter.stage in ("read", "parse") else "parse"
    return replace(letter, kind="entry", stage=stage, path=f"{name} {letter.path}".strip())


def _parse(response: Response, name: str) -> tuple[tuple[Item, ...], tuple[DeadLetter, ...]]:
    where = f"{name} {response.archive.record_id if response.archive else ''}".strip()
    try:
        config = source_config(response.context)
        connector = connector_class(config.kind)(config, None)  # type: ignore[arg-type]
        page = connector.parse(response)
    except Exception as exc:  # noqa: BLE001 - a connector's parse must not stop a file's replay
        raw = response.body[:_RAW_EXCERPT].decode("utf-8", "replace")
        reason = f"cannot parse archived response of {response.url}: {type(exc).__name__}: {exc}"
        return (), (DeadLetter(stage="parse", reason=reason, path=where, raw=raw),)
    letters = tuple(_as_entry(letter, where) for letter in page.dead_letters)
    # The poller's own stamping, so a replay copies what the live run copied.
    return stamp(page.items, config), letters


def replay_warc(stream: IO[bytes], name: str, max_bytes: int | None = None) -> WarcOutcome:
    """Read one WARC file into items (see the module docstring). Never raises for bad input.

    Args:
        stream: the file, binary.
        name: the file's name as items and dead letters record it.
        max_bytes: a response payload larger than this is dead-lettered.
    """
    items: list[Item] = []
    letters: list[DeadLetter] = []
    skipped: Counter[str] = Counter()
    articles: dict[str, Response] = {}
    for response, error in read_warc(stream, name, max_bytes):
        if response is None:
            if error is not None and error.position == 1:
                # Not even the first record: not a WARC file, or one cut inside it.
                letter = DeadLetter(stage="read", reason=str(error), path=name, kind="file")
                return WarcOutcome(path=name, status="dead_letter", dead_letters=(letter,))
            letters.append(DeadLetter(stage="read", reason=str(error), path=name))
            continue
        role = response.context.get("role")
        if role == ARTICLE_ROLE and response.context.get("for_url"):
            articles[response.context["for_url"]] = response
        elif role:
            skipped[str(role)] += 1
        elif not response.context.get("kind"):
            skipped["no_source"] += 1
        elif response.status == 304:
            skipped["not_modified"] += 1
        elif not 200 <= response.status < 300:
            skipped[f"status_{response.status}"] += 1
        else:
            found, bad = _parse(response, name)
            items.extend(found)
            letters.extend(bad)
    enriched, applied = _apply_articles(items, articles)
    status = "parsed" if enriched or letters else "empty"
    return WarcOutcome(
        path=name,
        status=status,
        items=tuple(enriched),
        dead_letters=tuple(letters),
        skipped=dict(skipped),
        articles_applied=applied,
    )


def _apply_articles(items: list[Item], articles: Mapping[str, Response]) -> tuple[list[Item], int]:
    if not articles:
        return items, 0
    out, applied = [], 0
    for item in items:
        url = article_url(item)
        page = articles.get(url) if url else None
        result = apply_article(item, page) if page is not None else item
        if isinstance(result, Item):
            applied += result is not item
            out.append(result)
        else:
            out.append(item)
    return out, applied
