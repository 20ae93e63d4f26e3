"""Records that share a node, grouped by connected component, without a global key.

A record joins two nodes (``(a, b, value)``; node ids are strings, compared
as strings). :class:`GroupByComponent` groups the values so that every
connected component of the graph the records make lies whole in one group:
a decision that only follows records from node to node (such as
:func:`transforms.dedup_pairs.assign_leaders`) made per group is the one made
over everything, and no group holds more than its components.

Components are found by alternating "large-star" and "small-star" phases
over the edge list (Kiveris et al., "Connected Components in MapReduce and
Beyond", 2014); each phase is one grouping of edges by node:

* large-star: node ``u`` with neighbours ``N``, ``m = min(N + u)``: each
  neighbour ``v > u`` is joined to ``m`` instead (:func:`large_star`);
* small-star: ``S = {v in N: v < u}``, ``m = min(S + u)``: ``u`` and each of
  ``S`` are joined to ``m`` instead (:func:`small_star`).

Both keep the components and the nodes; repeated they end in one star per
component, each node joined to the component's least node. A Beam batch
graph has no loops, so :data:`ROUNDS` rounds (a large-star and a
small-star each) are unrolled. Each node then takes as its label the least
of itself and its neighbours (:func:`node_labels`), and every record is sent
to the labels of both its ends; a label's group is *settled* when each of
its records has both ends there (:func:`is_settled`). A settled group holds
whole components whatever the rounds did. A component that did not settle
(a long chain of near pairs, say: every component of the real inputs
measured settled in one round) spans groups that are all unsettled: those
groups are gathered under one key, counted
(``newswatch:component_groups_unsettled`` and ``..._records_unsettled``)
and logged as a warning. That remainder, and only it, is decided in one
place.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

import apache_beam as beam
from apache_beam.metrics import Metrics

__all__ = [
    "ROUNDS",
    "UNSETTLED",
    "GroupByComponent",
    "group_by_component",
    "is_settled",
    "large_star",
    "node_labels",
    "record_sides",
    "small_star",
    "star_rounds",
]

# Rounds of (large-star, small-star) unrolled in the graph, two groupings
# each. The near pass's graphs are many small stars (a story, its near
# copies, the exact copies linked to it): on the real feeds (67 components,
# the largest 124 items) and a 25,077-item replay (44, largest 124) one round
# settled every component. Two settle any chain of up to 4 items and 94% of
# chains of 5 (ids in random order, as item ids are), three any chain of up to
# 8, for about 30 ms more of the graph's set-up per run; longer chains, if
# any, are decided in the unsettled group.
ROUNDS = 3
# The key of the group of unsettled components.
UNSETTLED = ""

_log = logging.getLogger(__name__)

# Two nodes joined (an edge of the graph, as the phases emit it).
_Pair = tuple[str, str]


# ---------------------------------------------------------------- pure


def large_star(node: str, neighbours: Iterable[str]) -> Iterator[_Pair]:
    """One node's large-star: each larger neighbour joined to the least of the node's around it.

    Args:
        node: the node.
        neighbours: its neighbours (repeats and the node itself are ignored).
    """
    around = set(neighbours)
    around.discard(node)
    least = min(around, default=node)
    least = node if node < least else least
    for other in around:
        if other > node:
            yield other, least


def small_star(node: str, neighbours: Iterable[str]) -> Iterator[_Pair]:
    """One node's small-star: the node and its smaller neighbours joined to the least of them.

    The node's edges to larger neighbours are left to those neighbours' own
    small-star (the node is among their smaller ones).

    Args:
        node: the node.
        neighbours: its neighbours (repeats and the node itself are ignored).
    """
    below = {other for other in neighbours if other < node}
    if not below:
        return
    least = min(below)
    yield node, least
    for other in below:
        if other != least:
            yield other, least


def _adjacency(edges: Iterable[_Pair]) -> dict[str, set[str]]:
    around: dict[str, set[str]] = defaultdict(set)
    for a, b in edges:
        if a != b:
            around[a].add(b)
            around[b].add(a)
    return around


def star_rounds(edges: Iterable[_Pair], rounds: int) -> set[_Pair]:
    """The edges after ``rounds`` rounds of large-star then small-star, in plain Python.

    What :class:`GroupByComponent` computes in Beam, as ``(smaller, larger)``
    pairs without repeats.
    """
    current = list(edges)
    for _ in range(rounds):
        for phase in (large_star, small_star):
            current = [e for u, n in _adjacency(current).items() for e in phase(u, n)]
    return {(a, b) if a < b else (b, a) for a, b in current if a != b}


def node_labels(node: str, around: Iterable[Any]) -> Iterator[tuple[str, tuple]]:
    """One node's group after the rounds → each record side at that node, under the node's label.

    Args:
        node: the node.
        around: its neighbours after the rounds (strings) and the sides of
            the records that end at it (tuples, :func:`record_sides`).

    The label is the least of the node and its neighbours: in a star, the
    component's least node.
    """
    label, sides = node, []
    for value in around:
        if isinstance(value, str):
            label = value if value < label else label
        else:
            sides.append(value)
    for side in sides:
        yield label, side


def record_sides(record: tuple) -> Iterator[tuple[str, tuple]]:
    """A record ``(a, b, value)`` → its two sides, keyed by their node.

    The value travels with the ``a`` side; the ``b`` side only says that
    ``b`` holds the record.
    """
    a, b, value = record
    yield a, ("a", a, b, value)
    yield b, ("b", a, b)


def is_settled(sides: Iterable[tuple]) -> bool:
    """Whether a label's group has both sides of each of its records (no record leaves it)."""
    ends: dict[str, set[_Pair]] = {"a": set(), "b": set()}
    for side in sides:
        ends[side[0]].add((side[1], side[2]))
    return ends["a"] == ends["b"]


def group_by_component(
    records: Iterable[tuple], rounds: int = ROUNDS
) -> tuple[dict[str, list], list]:
    """What :class:`GroupByComponent` computes, in plain Python.

    Returns:
        ``(settled, unsettled)``: label → values of each settled group, and
        the values of the groups that did not settle.
    """
    records = list(records)
    graph = star_rounds(((a, b) for a, b, _ in records), rounds)
    at_node: dict[str, list] = defaultdict(list)
    for a, b in graph:
        at_node[a].append(b)
        at_node[b].append(a)
    for record in records:
        for node, side in record_sides(record):
            at_node[node].append(side)
    by_label: dict[str, list] = defaultdict(list)
    for node, around in at_node.items():
        for label, side in node_labels(node, around):
            by_label[label].append(side)
    settled, unsettled = {}, []
    for label, sides in by_label.items():
        values = [side[3] for side in sides if side[0] == "a"]
        if is_settled(sides):
            settled[label] = values
        else:
            unsettled.extend(values)
    return settled, unsettled


# ---------------------------------------------------------------- Beam


def _both_ways(record: tuple) -> Iterator[_Pair]:
    """A record's edge, both ways (none for a record from a node to itself)."""
    a, b, _ = record
    if a != b:
        yield a, b
        yield b, a


def _phase(grouped: tuple[str, Iterable[str]], step) -> Iterator[_Pair]:
    node, neighbours = grouped
    for a, b in step(node, neighbours):
        yield a, b
        yield b, a


class _SettleFn(beam.DoFn):
    """A label's group → ``(label, values)`` if settled, else its values tagged ``unsettled``."""

    def __init__(self) -> None:
        self._groups = Metrics.counter("newswatch", "component_groups_unsettled")
        self._records = Metrics.counter("newswatch", "component_records_unsettled")

    def process(self, grouped: tuple[str, Iterable[tuple]]):
        label, sides = grouped
        sides = list(sides)
        values = [side[3] for side in sides if side[0] == "a"]
        if is_settled(sides):
            yield label, values
        else:
            self._groups.inc()
            self._records.inc(len(values))
            yield beam.pvalue.TaggedOutput("unsettled", (UNSETTLED, (label, values)))


def _gather_unsettled(grouped: tuple[str, Iterable[tuple]], rounds: int):
    _, groups = grouped
    labels, values = 0, []
    for _, group in groups:
        labels += 1
        values.extend(group)
    _log.warning(
        "%d records in %d groups did not settle into components in %d rounds: "
        "they are decided together under one key",
        len(values), labels, rounds,
    )  # fmt: skip
    yield UNSETTLED, values


class GroupByComponent(beam.PTransform):
    """``(a, b, value)`` records → ``(key, values)``, each connected component whole in one group.

    Several components may share a group; the components that did not
    settle in ``rounds`` rounds share the group keyed :data:`UNSETTLED`.
    Keys and edges are strings (a deterministic coder); each round is two
    groupings of the edges by node, then two more group the records (and
    one more the unsettled remainder, if any).

    Args:
        rounds: rounds of large-star and small-star to unroll (at least 1).

    Raises:
        ValueError: if ``rounds`` is below 1.
    """

    def __init__(self, rounds: int = ROUNDS) -> None:
        super().__init__()
        if rounds < 1:
            raise ValueError(f"rounds must be at least 1 (got {rounds!r})")
        self._rounds = rounds

    def expand(self, records):
        # One element type for the edges and the sides: a Flatten of inputs
        # with different coders is what Prism 2.62 cannot run (docs/engines.md).
        keyed = tuple[str, Any]
        edges = records | "Edges" >> beam.FlatMap(_both_ways).with_output_types(keyed)
        sides = records | "Sides" >> beam.FlatMap(record_sides).with_output_types(keyed)
        for n in range(1, self._rounds + 1):
            for name, step in (("Large", large_star), ("Small", small_star)):
                edges = (
                    edges
                    | f"{name}{n}ByNode" >> beam.GroupByKey()
                    | f"{name}Star{n}"
                    >> beam.FlatMap(_phase, step).with_output_types(keyed)
                )
        groups = (
            (edges, sides)
            | "EdgesAndSides" >> beam.Flatten()
            | "AtNode" >> beam.GroupByKey()
            | "Label" >> beam.FlatMap(lambda at: node_labels(*at)).with_output_types(keyed)
            | "ByLabel" >> beam.GroupByKey()
            | "Settle" >> beam.ParDo(_SettleFn()).with_outputs("unsettled", main="settled")
        )
        gathered = (
            groups.unsettled
            | "GatherUnsettled" >> beam.GroupByKey()
            | "Unsettled" >> beam.FlatMap(_gather_unsettled, self._rounds)
        )
        return (groups.settled, gathered) | "Groups" >> beam.Flatten()
