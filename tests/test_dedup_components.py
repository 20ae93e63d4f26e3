"""Connected components without a global key: the star phases, settling, and the near decision."""

from __future__ import annotations

import logging
import random

import apache_beam as beam
import pytest
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.util import assert_that, equal_to
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import FAST_RUNNER
from transforms.dedup_components import (
    UNSETTLED,
    GroupByComponent,
    group_by_component,
    is_settled,
    large_star,
    node_labels,
    record_sides,
    small_star,
    star_rounds,
)
from transforms.dedup_near import _leaders
from transforms.dedup_pairs import assign_leaders


def _components(edges) -> list[set[str]]:
    """Connected components by union-find, the plain answer to compare with."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        parent[find(a)] = find(b)
    groups: dict[str, set[str]] = {}
    for x in list(parent):
        groups.setdefault(find(x), set()).add(x)
    return sorted(groups.values(), key=min)


def _stars(edges) -> set[tuple[str, str]]:
    """The converged edge set: each node of a component joined to its least node."""
    return {(min(c), x) for c in _components(edges) for x in c if x != min(c)}


def _rounds_needed(edges, limit: int = 64) -> int:
    """Rounds until the graph is one star per component."""
    want = _stars(edges)
    for rounds in range(limit + 1):
        if star_rounds(edges, rounds) == want:
            return rounds
    raise AssertionError(f"no star after {limit} rounds")


def _path(n: int, prefix: str = "p") -> list[tuple[str, str]]:
    return [(f"{prefix}{i:04d}", f"{prefix}{i + 1:04d}") for i in range(n - 1)]


# ---------------------------------------------------------------- the phases


def test_large_star_joins_each_larger_neighbour_to_the_least_around():
    assert sorted(large_star("c", ["a", "d", "e", "d", "c"])) == [("d", "a"), ("e", "a")]
    # A node that is the least around joins its larger neighbours to itself.
    assert sorted(large_star("b", ["d", "c"])) == [("c", "b"), ("d", "b")]
    # Smaller neighbours are left to their own large-star.
    assert list(large_star("z", ["a", "b"])) == []


def test_small_star_joins_the_node_and_its_smaller_neighbours_to_the_least():
    assert sorted(small_star("d", ["b", "a", "c", "e", "b"])) == [
        ("b", "a"), ("c", "a"), ("d", "a")
    ]  # fmt: skip
    assert list(small_star("a", ["b", "c"])) == []  # its edges are kept by b and c
    assert list(small_star("b", ["a"])) == [("b", "a")]


def test_a_path_becomes_one_star_on_its_least_node():
    edges = [("c", "d"), ("b", "c"), ("d", "e"), ("a", "b")]
    assert star_rounds(edges, 3) == {("a", "b"), ("a", "c"), ("a", "d"), ("a", "e")}
    # Node ids compare as strings: "10" < "9".
    assert star_rounds([("9", "10"), ("10", "11")], 2) == {("10", "11"), ("10", "9")}


def test_a_star_stays_a_star_whichever_node_is_its_centre():
    spokes = [("m", x) for x in "abcxyz"]
    assert star_rounds(spokes, 1) == {("a", x) for x in "bcmxyz"}
    assert star_rounds(star_rounds(spokes, 1), 2) == star_rounds(spokes, 1)


def test_two_components_stay_apart_and_cycles_close():
    edges = [("a", "b"), ("b", "c"), ("c", "a"), ("x", "y"), ("y", "z"), ("z", "w"), ("w", "x")]
    assert star_rounds(edges, 3) == {("a", "b"), ("a", "c"), ("w", "x"), ("w", "y"), ("w", "z")}


def test_repeated_edges_and_loops_change_nothing():
    edges = [("a", "b"), ("b", "a"), ("a", "b"), ("b", "c"), ("c", "c")]
    assert star_rounds(edges, 2) == {("a", "b"), ("a", "c")}


@given(st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40)), max_size=80))
def test_rounds_end_in_one_star_per_component(pairs):
    edges = [(str(a), str(b)) for a, b in pairs if a != b]
    assert star_rounds(edges, 12) == _stars(edges)


def test_a_long_path_needs_more_rounds_than_a_short_one():
    assert _rounds_needed(_path(3)) <= 1
    assert _rounds_needed(_path(500)) > _rounds_needed(_path(20)) >= 2


# ---------------------------------------------------------------- settling


def test_a_node_labels_its_record_sides_with_the_least_around_it():
    around = ["m", ("a", "q", "x", 1), "c", ("b", "x", "q")]
    assert list(node_labels("q", around)) == [("c", ("a", "q", "x", 1)), ("c", ("b", "x", "q"))]
    assert list(node_labels("a", [("a", "a", "z", 2)])) == [("a", ("a", "a", "z", 2))]


def test_a_group_is_settled_only_with_both_sides_of_each_record():
    sides = [side for record in [("a", "b", 1), ("b", "c", 2)] for _, side in record_sides(record)]
    assert is_settled(sides)
    assert not is_settled(sides[:-1])
    assert not is_settled(sides[1:])


def test_components_settle_or_go_together_to_the_unsettled_group():
    short = [("s1", "s2", "one"), ("s2", "s3", "two"), ("t1", "t2", "three")]
    long = [(a, b, f"{a}-{b}") for a, b in _path(200, "q")]
    settled, unsettled = group_by_component(short + long, rounds=1)
    assert sorted(map(sorted, settled.values())) == [["one", "two"], ["three"]]
    assert sorted(unsettled) == sorted(v for *_, v in long)
    settled, unsettled = group_by_component(short + long, rounds=12)
    assert unsettled == [] and len(settled) == 3


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60)), max_size=90),
       st.permutations(range(61)), st.integers(0, 40), st.integers(1, 3))  # fmt: skip
def test_every_component_lies_whole_in_one_group(pairs, order, chain, rounds):
    # Random pairs, and a chain through nodes in random order (what takes rounds).
    pairs = pairs + list(zip(order[:chain], order[1:chain], strict=False))
    records = [(f"n{a}", f"n{b}", (a, b)) for a, b in pairs]
    settled, unsettled = group_by_component(records, rounds)
    groups = [*settled.values(), unsettled]
    assert sorted(v for g in groups for v in g) == sorted(pairs)  # each record once
    for component in _components((a, b) for a, b, _ in records):
        holding = [g for g in groups if any(f"n{v[0]}" in component for v in g)]
        assert len(holding) == 1


# ---------------------------------------------------------------- the near decision


def _rank(n: int, item_id: str) -> tuple:
    return (f"2026-03-01T{n // 60:02d}:{n % 60:02d}:00Z", "\uffff", item_id, "sha", "src")


@st.composite
def near_graphs(draw):
    """Verified pairs and exact links over items whose id order is not their rank order."""
    size = draw(st.integers(2, 40))
    ids = draw(st.lists(st.text("abcxyz019", min_size=1, max_size=4), min_size=size,
                        max_size=size, unique=True))  # fmt: skip
    ranks = {item_id: _rank(n, item_id) for n, item_id in enumerate(ids)}
    pairs = draw(st.lists(st.tuples(st.integers(0, size - 1), st.integers(0, size - 1)),
                          max_size=3 * size))  # fmt: skip
    # A chain through items in random order too: it takes more rounds to settle.
    order = draw(st.permutations(range(size)))
    pairs += list(zip(order, order[1 : draw(st.integers(0, size))], strict=False))
    similarities = st.sampled_from([0.5, 0.75, 0.8, 0.9])
    edges = {
        (ranks[ids[i]], ids[i], ranks[ids[j]], ids[j], draw(similarities))
        for i, j in ((min(p), max(p)) for p in pairs)
        if i != j
    }
    # An exact copy points at a survivor, never at another copy.
    copies = draw(st.sets(st.sampled_from(ids), max_size=size // 3))
    survivors = [i for i in ids if i not in copies]
    links = [(c, draw(st.sampled_from(survivors))) for c in sorted(copies)] if survivors else []
    return sorted(edges), links


def _pipeline() -> beam.Pipeline:
    # A pipeline of its own per example (hypothesis runs one test many times).
    from apache_beam.testing.test_pipeline import TestPipeline

    return TestPipeline(options=PipelineOptions(FAST_RUNNER))


def _near_records(edges, links) -> list[tuple]:
    """The records the near pass gives :class:`GroupByComponent`."""
    return [(e[1], e[3], ("edge", *e)) for e in edges] + [
        (copy, rep, ("link", copy, rep)) for copy, rep in links
    ]


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(near_graphs(), min_size=1, max_size=4), st.integers(1, 3))
def test_per_component_leaders_in_beam_are_the_global_leaders(graphs, rounds):
    edges, links = [], []
    for n, (e, ln) in enumerate(graphs):  # several graphs, their ids kept apart
        edges += [(ra, f"{n}.{a}", rb, f"{n}.{b}", s) for ra, a, rb, b, s in e]
        links += [(f"{n}.{c}", f"{n}.{r}") for c, r in ln]
    want = assign_leaders(edges, links)
    with _pipeline() as p:
        near_of = (
            p
            | beam.Create(_near_records(edges, links))
            | GroupByComponent(rounds)
            | beam.FlatMap(_leaders)
        )
        assert_that(near_of, equal_to(sorted(want.items())))


def test_a_component_that_does_not_settle_is_decided_whole_counted_and_logged(caplog):
    rng = random.Random(7)
    ids = [f"id{n:04d}" for n in range(300)]
    rng.shuffle(ids)  # rank order is not id order
    ranks = {item_id: _rank(n, item_id) for n, item_id in enumerate(ids)}
    chain = [(ranks[a], a, ranks[b], b, 0.8) for a, b in zip(ids, ids[1:], strict=False)]
    story = [(ranks[ids[0]], ids[0], ranks[ids[5]], ids[5], 0.9)]
    small = [(_rank(0, "s1"), "s1", _rank(1, "s2"), "s2", 0.7)]
    edges, links = chain + story + small, [("x", "s1")]
    want = assign_leaders(edges, links)
    assert len(want) > 100
    caplog.set_level(logging.WARNING, logger="transforms.dedup_components")
    p = _pipeline()
    groups = p | beam.Create(_near_records(edges, links)) | GroupByComponent(rounds=2)
    assert_that(groups | beam.FlatMap(_leaders), equal_to(sorted(want.items())), label="same")
    assert_that(
        groups | beam.Map(lambda g: (g[0], len(g[1]))),
        equal_to([("s1", 2), (UNSETTLED, len(chain) + 1)]),
        label="groups",
    )
    result = p.run()
    result.wait_until_finish()
    counters = {
        c.key.metric.name: c.committed
        for c in result.metrics().query(MetricsFilter().with_namespace("newswatch"))["counters"]
    }
    assert counters["component_groups_unsettled"] > 1  # the chain spans several labels
    assert counters["component_records_unsettled"] == len(chain) + 1
    assert any("did not settle" in r.getMessage() for r in caplog.records)


def test_rounds_must_be_positive():
    with pytest.raises(ValueError, match=r"at least 1 \(got 0\)"):
        GroupByComponent(rounds=0)
