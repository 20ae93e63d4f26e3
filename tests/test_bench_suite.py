"""``make bench``'s list: every benchmark exists and takes the options it is given."""

from __future__ import annotations

import argparse
import importlib

import pytest

from benchmarks.__main__ import ARGUMENTS, BENCHMARKS


class _Parsed(Exception):
    """Stops a benchmark's main right after its options are parsed."""


def test_every_listed_benchmark_has_a_main():
    for name in BENCHMARKS:
        assert callable(importlib.import_module(f"benchmarks.{name}").main)
    assert set(ARGUMENTS) <= set(BENCHMARKS)


@pytest.mark.parametrize("name", sorted(ARGUMENTS))
def test_the_options_make_bench_gives_are_known_to_the_benchmark(name, monkeypatch):
    parse = argparse.ArgumentParser.parse_args

    def parse_then_stop(parser, args=None, namespace=None):
        # An unknown option ends here with argparse's usage error (exit status 2).
        raise _Parsed(parse(parser, args, namespace))

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", parse_then_stop)
    module = importlib.import_module(f"benchmarks.{name}")
    with pytest.raises(_Parsed) as parsed:
        module.main(list(ARGUMENTS[name]))
    options = vars(parsed.value.args[0])
    dest = ARGUMENTS[name][0].lstrip("-").replace("-", "_")
    assert options[dest] not in (None, False, 0)  # the option took effect


def test_an_unknown_option_would_be_caught(monkeypatch):
    monkeypatch.setitem(ARGUMENTS, "replay_bench", ["--no-such-option"])
    with pytest.raises(SystemExit) as stop:
        test_the_options_make_bench_gives_are_known_to_the_benchmark("replay_bench", monkeypatch)
    assert stop.value.code == 2
