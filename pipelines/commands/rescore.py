"""``newswatch rescore --store FILE``: flag the items of a review store again with current packs.

When packs change, items already in the store were flagged by the old ones.
Rescoring runs every stored item (its title and text as stored, its detected
language) through the current packs and reports, per item, the flag
categories that appeared or disappeared and the scores that changed, beside
the reviewer's current decision. Reviewer decisions are never read for
writing nor written: with ``--apply`` the rescored flags replace the stored
ones through the store's upsert, which keeps every decision and its history.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from pipelines.commands.common import CliError

__all__ = ["HELP", "NAME", "Change", "add_arguments", "rescore", "run"]

NAME = "rescore"
HELP = "re-evaluate the items of a review store with the current packs (decisions untouched)"


@dataclass(frozen=True, slots=True)
class Change:
    """How one stored item's flags differ under the current packs.

    Attributes:
        before, after: category -> score of the flags, stored and rescored.
        rules_after: category -> the rules that fired now.
        truncated: the stored text was cut when the item was published, so
            the rescore saw less text than the first flagging did.
    """

    item_id: str
    title: str
    decision: str | None
    before: dict[str, float]
    after: dict[str, float]
    rules_after: dict[str, list[str]]
    truncated: bool

    @property
    def appeared(self) -> list[str]:
        return [c for c in self.after if c not in self.before]

    @property
    def disappeared(self) -> list[str]:
        return [c for c in self.before if c not in self.after]

    @property
    def rescored(self) -> list[str]:
        return [c for c in self.after if c in self.before and self.after[c] != self.before[c]]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Flag the items of a review store again with the current packs and report the flags "
        "that appeared or disappeared. Reviewer decisions are never changed."
    )
    parser.add_argument("--store", required=True, metavar="FILE", help="the review store (SQLite)")
    parser.add_argument(
        "--packs_dir", default=None, metavar="DIR", help="rule packs (default: bundled packs)"
    )
    parser.add_argument(
        "--thresholds",
        default="",
        metavar="SPEC",
        help="per-category score thresholds, e.g. war_crime_allegation=0.6,investigation=0.5",
    )
    parser.add_argument(
        "--apply",
        action="store_true",
        help="write the rescored flags into the store (decisions and their history stay)",
    )
    parser.add_argument("--output", default=None, metavar="FILE", help="also write JSON here")


def rescore(store, engine, flag) -> list[Change]:
    """Every stored item's flags, stored and under ``engine``; nothing is written.

    Args:
        store: a :class:`connectors.store.ReviewStore`.
        engine: the rule engine with the current packs.
        flag: ``flag_item(engine, item) -> item`` (the pipeline's flagging step).
    """
    changes = []
    for item_id in store.item_ids():
        stored = store.item(item_id)
        if stored is None:  # removed while we read
            continue
        item = stored.item
        fresh = flag(engine, item)
        changes.append(
            Change(
                item_id=item_id,
                title=item.title,
                decision=stored.decision,
                before={f.category: f.score for f in item.flags},
                after={f.category: f.score for f in fresh.flags},
                rules_after={f.category: list(f.rules) for f in fresh.flags},
                truncated=bool(stored.text_truncated),
            )
        )
    return changes


def _line(kind: str, change: Change, category: str) -> str:
    was = change.before.get(category)
    now = change.after.get(category)
    scores = f"{'-' if was is None else was} -> {'-' if now is None else now}"
    rules = change.rules_after.get(category, [])
    notes = [f"decision={change.decision or 'none'}"]
    if change.truncated:
        notes.append("truncated text")
    return (
        f"{kind:<11} {category:<22} {scores:<17} {change.item_id}  {' '.join(notes)}  "
        f"{change.title[:60]!r}" + (f"  {rules}" if rules else "")
    )


def summarise(changes: Iterable[Change]) -> tuple[dict[str, int], list[str]]:
    counts = {"items": 0, "appeared": 0, "disappeared": 0, "rescored": 0, "unchanged": 0}
    lines = []
    for change in changes:
        counts["items"] += 1
        if not (change.appeared or change.disappeared or change.rescored):
            counts["unchanged"] += 1
        for kind in ("appeared", "disappeared", "rescored"):
            for category in getattr(change, kind):
                counts[kind] += 1
                lines.append(_line(kind, change, category))
    return counts, lines


def run(args: argparse.Namespace, extra: Sequence[str]) -> int:
    from connectors.store import ReviewStore
    from pipelines.options import parse_thresholds
    from transforms.flagging import flag_item
    from transforms.rules import PACKS_DIR, PackError, RuleEngine

    if extra:
        raise CliError(f"unknown arguments: {' '.join(extra)}")
    path = Path(args.store)
    if not path.is_file():
        # Opening a missing file would create an empty store: refuse instead.
        raise CliError(f"review store not found: {path}")
    try:
        engine = RuleEngine.load(args.packs_dir or PACKS_DIR, parse_thresholds(args.thresholds))
    except (ValueError, PackError) as exc:
        raise CliError(str(exc)) from None
    with ReviewStore(path) as store:
        changes = rescore(store, engine, flag_item)
        counts, lines = summarise(changes)
        written = 0
        if args.apply:
            for change in changes:
                if change.appeared or change.disappeared or change.rescored:
                    stored = store.item(change.item_id)
                    store.upsert_item(
                        flag_item(engine, stored.item), text_truncated=stored.text_truncated
                    )
                    written += 1
    print(
        f"rescored {counts['items']} items in {path} with {args.packs_dir or PACKS_DIR}: "
        f"{counts['appeared']} flags appeared, {counts['disappeared']} disappeared, "
        f"{counts['rescored']} changed score; {counts['unchanged']} items unchanged"
    )
    for line in lines:
        print(line)
    if args.apply:
        print(f"{written} items written back (decisions untouched)")
    else:
        print("nothing written (use --apply to store the rescored flags)")
    if args.output:
        out = Path(args.output)
        out.parent.mkdir(parents=True, exist_ok=True)
        body = {
            "counts": counts,
            "changes": [
                {**asdict(c), "appeared": c.appeared, "disappeared": c.disappeared}
                for c in changes
                if c.appeared or c.disappeared or c.rescored
            ],
        }
        out.write_text(json.dumps(body, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0
