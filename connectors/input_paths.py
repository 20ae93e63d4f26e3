"""Input paths of a replay: patterns to match, names relative to their roots, files not to open.

Pure functions, without Beam: the command line checks its inputs with them
before any pipeline is built, and :mod:`connectors.files` uses them inside it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence

__all__ = ["expand_inputs", "not_regular", "relative_name"]


def expand_inputs(paths: Sequence[str]) -> list[tuple[str, str]]:
    """(glob pattern, root) for each input path; directories are read recursively.

    Raises:
        FileNotFoundError: a local path does not exist.
    """
    out = []
    for path in paths:
        if "://" in path:  # gs:// and other Beam filesystems: taken as a pattern
            out.append((path, path.rsplit("/", 1)[0]))
            continue
        absolute = os.path.abspath(path)
        if os.path.isdir(absolute):
            out.append((os.path.join(absolute, "**"), absolute))
        elif os.path.isfile(absolute):
            out.append((absolute, os.path.dirname(absolute)))
        else:
            raise FileNotFoundError(f"input path does not exist: {path}")
    local = sorted({root for pattern, root in out if "://" not in pattern})
    if len(local) > 1:
        # Two inputs may hold the same file name (a/feed.xml, b/feed.xml):
        # names relative to their common folder keep origins and ids apart.
        common = os.path.commonpath(local)
        out = [(p, r if "://" in p else common) for p, r in out]
    return out


def relative_name(path: str, roots: Sequence[str]) -> str:
    """``path`` relative to the longest root that contains it.

    Feeds without a declared URL are identified by this name, so ids do not
    depend on where the input folder sits on disk.
    """
    best = ""
    for root in roots:
        prefix = root.rstrip("/") + "/"
        if path.startswith(prefix) and len(prefix) > len(best):
            best = prefix
    return path[len(best) :] if best else path


def not_regular(path: str) -> str | None:
    """Why a local path must not be opened (FIFO, device, socket), or None.

    Opening a FIFO blocks until someone writes to it; a device can be
    endless. Remote paths are always regular objects.
    """
    if "://" in path:
        return None
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        return f"cannot stat: {exc.strerror}"
    if stat.S_ISREG(mode):
        return None
    kind = (
        "FIFO"
        if stat.S_ISFIFO(mode)
        else "socket"
        if stat.S_ISSOCK(mode)
        else "character device"
        if stat.S_ISCHR(mode)
        else "block device"
        if stat.S_ISBLK(mode)
        else "directory"
        if stat.S_ISDIR(mode)
        else "special file"
    )
    return f"not a regular file ({kind}); not opened"
