"""Pure validators for the command line's options: each raises ValueError showing what it got."""

from __future__ import annotations

import os

from transforms.rules import CATEGORIES

__all__ = ["check_output_dir", "parse_thresholds", "positive_int"]


def positive_int(value: str) -> int:
    """argparse type for a positive integer, with the value in the error."""
    try:
        number = int(value)
    except ValueError:
        raise ValueError(f"must be a positive integer (got {value!r})") from None
    if number <= 0:
        raise ValueError(f"must be a positive integer (got {value!r})")
    return number


def parse_thresholds(spec: str | None) -> dict[str, float]:
    """``category=score,...`` → dict.

    Raises:
        ValueError: unknown category or a score outside [0, 1].
    """
    out: dict[str, float] = {}
    for part in (spec or "").split(","):
        if not part.strip():
            continue
        name, sep, value = part.partition("=")
        name = name.strip()
        if not sep or name not in CATEGORIES:
            raise ValueError(
                f"thresholds must look like category=score with category in {CATEGORIES} (got {part!r})"
            )
        try:
            score = float(value)
        except ValueError:
            raise ValueError(f"threshold for {name} must be a number (got {value!r})") from None
        if not 0 <= score <= 1:
            raise ValueError(f"threshold for {name} must be in [0, 1] (got {value!r})")
        out[name] = score
    return out


def check_output_dir(path: str) -> str:
    """Create the output directory if needed and check that it is writable.

    Raises:
        ValueError: the directory cannot be created or written.
    """
    if "://" in path:
        return path  # remote filesystems are checked by Beam when writing
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"cannot create output directory {path!r}: {exc.strerror}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise ValueError(f"output directory is not writable: {path!r}")
    return path
