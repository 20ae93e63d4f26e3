"""CPU seconds per project DoFn (and a few per-item functions) in one in-process replay.

    python -m benchmarks.replay_dofn_cpu INPUT_DIR OUTPUT_DIR [replay options]

Runs ``newswatch replay`` on FnApiRunner in this process with every DoFn
class of ``transforms``, ``connectors`` and ``pipelines`` wrapped: the
thread CPU time spent inside each ``process`` (inside each step of its
generator, so the downstream steps fused after it are not counted in it),
``finish_bundle`` and ``setup``, and inside :data:`FUNCTIONS`, whichever
DoFn calls them. It prints them after the replay's own lines, with the
calls, so that a stage's CPU in the pipeline can be set beside the same
stage in ``benchmarks.replay_loop --stages``. The wrapping costs about a
microsecond a call: compare figures from this tool with each other.
"""

from __future__ import annotations

import atexit
import functools
import importlib
import inspect
import pkgutil
import sys
import time
from collections import Counter
from collections.abc import Callable

__all__ = ["FUNCTIONS", "instrument", "main", "report"]

_clock = time.thread_time
_spent: Counter[str] = Counter()
_calls: Counter[str] = Counter()
# Per-item functions timed wherever they are called: (module, name).
FUNCTIONS = (
    ("transforms.normalise_stage", "normalise_or_reason"),
    ("transforms.flagging", "flag_item"),
    ("transforms.dedup_member", "near_and_content"),
    ("transforms.spill", "to_json"),
    ("transforms.dedup_apply", "from_json"),
    ("connectors.sinks", "to_json"),
)
_METHODS = ("process", "finish_bundle", "setup", "start_bundle")


def _timed_generator(fn: Callable, label: str) -> Callable:
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        start = _clock()
        gen = fn(*args, **kwargs)
        _spent[label] += _clock() - start
        _calls[label] += 1
        while True:
            start = _clock()
            try:
                value = next(gen)
            except StopIteration:
                _spent[label] += _clock() - start
                return
            _spent[label] += _clock() - start
            yield value

    return wrapper


def _timed_call(fn: Callable, label: str) -> Callable:
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        start = _clock()
        try:
            return fn(*args, **kwargs)
        finally:
            _spent[label] += _clock() - start
            _calls[label] += 1

    return wrapper


def instrument() -> None:
    """Wrap the project's DoFn methods and :data:`FUNCTIONS` (before the pipeline is built)."""
    import apache_beam as beam

    for package in ("transforms", "connectors", "pipelines"):
        pkg = importlib.import_module(package)
        for info in pkgutil.iter_modules(pkg.__path__):
            try:
                module = importlib.import_module(f"{package}.{info.name}")
            except Exception:  # noqa: BLE001 - a module with optional dependencies
                continue
            for obj in list(vars(module).values()):
                if not (
                    inspect.isclass(obj)
                    and issubclass(obj, beam.DoFn)
                    and obj.__module__ == module.__name__
                ):
                    continue
                for name in _METHODS:
                    fn = obj.__dict__.get(name)
                    if fn is None:
                        continue
                    label = f"{info.name}.{obj.__name__}.{name}"
                    wrap = _timed_generator if inspect.isgeneratorfunction(fn) else _timed_call
                    setattr(obj, name, wrap(fn, label))
    for module_name, name in FUNCTIONS:
        module = importlib.import_module(module_name)
        label = f"{name}()@{module_name.split('.')[-1]}"
        setattr(module, name, _timed_call(getattr(module, name), label))


def report(out=sys.stderr) -> None:
    """Print the CPU seconds gathered, largest first."""
    print(f"thread CPU seconds per project DoFn method and function ({_clock():.2f} s in this "
          "thread)", file=out)
    for label, seconds in _spent.most_common():
        print(f"  {seconds:8.2f} s {_calls[label]:>8} calls  {label}", file=out)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) < 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    instrument()
    atexit.register(report)
    from pipelines.cli import main as cli

    return cli(["replay", args[0], "--quiet", "--output", args[1], *args[2:]])


if __name__ == "__main__":
    sys.exit(main())
