"""CPU seconds of each process and thread of a command's process tree, read from /proc.

    python -m benchmarks.replay_procs [--every S] [--timeline S] -- COMMAND [ARG ...]

For a replay with worker processes: which process (the runner, each SDK
worker, each parse-worker child) and which thread (a worker's main thread
imports, its work thread runs the bundles) spent the CPU. /proc is read every
``--every`` seconds (0.1) while the command runs; a process's figure is the
last one read before it ended, so up to that interval of CPU may be missing.
With ``--timeline S`` it also prints, for every S seconds of the run, how many
cores the tree used and which processes used them: where cores stood idle
(a start that runs on one core, a load that others wait for, a last stage
that only one worker has work in). Linux only.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field

__all__ = ["Usage", "main", "timeline", "watch"]

_TICK = os.sysconf("SC_CLK_TCK")


@dataclass(slots=True)
class Usage:
    """What one process was seen to spend: its command line, CPU s, and CPU s per thread."""

    command: str
    cpu: float = 0.0
    threads: dict[int, float] = field(default_factory=dict)


def _stat(path: str) -> tuple[int, float] | None:
    """(parent pid, user + system CPU seconds) from a /proc stat file; None if gone."""
    try:
        with open(path, encoding="ascii", errors="replace") as handle:
            text = handle.read()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICK


def _tree(root: int) -> dict[int, float]:
    parents: dict[int, tuple[int, float]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            got = _stat(f"/proc/{name}/stat")
            if got is not None:
                parents[int(name)] = got
    tree, grew = {root}, True
    while grew:
        grew = False
        for pid, (parent, _) in parents.items():
            if parent in tree and pid not in tree:
                tree.add(pid)
                grew = True
    return {pid: parents[pid][1] for pid in tree if pid in parents}


def watch(
    argv: list[str], every: float = 0.1, samples: list | None = None
) -> tuple[int, float, dict[int, Usage]]:
    """Run ``argv``; its exit status, wall seconds and the usage of each process seen.

    Args:
        argv: the command.
        every: seconds between two readings of /proc.
        samples: if given, each reading is appended to it as ``(seconds since
            the start, {pid: CPU seconds so far})`` (for :func:`timeline`).

    Raises:
        ValueError: ``every`` is not positive.
    """
    if every <= 0:
        raise ValueError(f"every must be positive (got {every!r})")
    seen: dict[int, Usage] = {}
    started = time.monotonic()
    child = subprocess.Popen(argv)
    while True:
        done = child.poll() is not None
        tree = _tree(child.pid)
        if samples is not None:
            samples.append((time.monotonic() - started, tree))
        for pid, cpu in tree.items():
            usage = seen.get(pid)
            if usage is None:
                try:
                    with open(f"/proc/{pid}/cmdline", "rb") as handle:
                        command = handle.read().replace(b"\0", b" ").decode(errors="replace")
                except OSError:
                    command = "?"
                usage = seen[pid] = Usage(command.strip())
            usage.cpu = cpu
            try:
                tids = os.listdir(f"/proc/{pid}/task")
            except OSError:
                tids = []
            for tid in tids:
                got = _stat(f"/proc/{pid}/task/{tid}/stat")
                if got is not None:
                    usage.threads[int(tid)] = got[1]
        if done:
            break
        time.sleep(every)
    return child.returncode, time.monotonic() - started, seen


def _role(command: str) -> str:
    """A short name for a process of a replay's tree, from its command line."""
    for marker, name in (
        ("sdk_worker_main", "sdk worker"),
        ("connectors.parse_worker", "parse worker"),
        ("transforms.language_server", "language server"),
        ("pipelines.cli", "runner"),
    ):
        if marker in command:
            return name
    return os.path.basename(command.split(" ", 1)[0]) or "?"


def timeline(
    samples: list, seen: dict[int, Usage], step: float, busy: float = 0.05
) -> list[str]:
    """One line per ``step`` seconds of the run: cores used, and CPU per process in that time.

    ``samples`` come from :func:`watch`; a process is named when it spent
    more than ``busy`` CPU seconds in the step.

    Raises:
        ValueError: ``step`` is not positive.
    """
    if step <= 0:
        raise ValueError(f"step must be positive (got {step!r})")
    lines: list[str] = []
    last: dict[int, float] = {}
    since = 0.0
    for index, (at, tree) in enumerate(samples):
        if at - since < step and index < len(samples) - 1:
            continue
        spent = {pid: cpu - last.get(pid, 0.0) for pid, cpu in tree.items()}
        used = sum(spent.values()) / max(at - since, 1e-9)
        named = sorted(
            ((cpu, _role(seen[pid].command) if pid in seen else "?", pid)
             for pid, cpu in spent.items() if cpu > busy),
            reverse=True,
        )
        parts = " ".join(f"{role} {pid}: {cpu:.2f}" for cpu, role, pid in named)
        lines.append(f"{since:6.1f}-{at:6.1f} s  cores {used:4.2f}  {parts}".rstrip())
        last.update(tree)
        since = at
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=float, default=0.1)
    parser.add_argument(
        "--timeline", type=float, default=None, metavar="S",
        help="also print the cores used and by whom, every S seconds of the run",
    )
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("a command to run is required (after --)")
    if args.timeline is not None and args.timeline < args.every:
        parser.error(f"--timeline must be at least --every ({args.every})")
    samples: list | None = [] if args.timeline is not None else None
    status, wall, seen = watch(command, args.every, samples)
    if samples is not None:
        for line in timeline(samples, seen, args.timeline):
            print(line, file=sys.stderr)
    total = sum(u.cpu for u in seen.values())
    print(f"wall {wall:.1f} s, CPU {total:.1f} s in {len(seen)} processes, "
          f"load average {os.getloadavg()[0]:.1f}", file=sys.stderr)
    for pid, usage in sorted(seen.items()):
        print(f"  {pid:>8} {usage.cpu:8.2f} s  {usage.command[:100]}", file=sys.stderr)
        for tid, cpu in sorted(usage.threads.items()):
            if cpu >= 0.2:
                print(f"  {'':>8} {cpu:8.2f} s    thread {tid}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
