"""Which file a path names now, to tell whether a database file open in this process was
removed or replaced at its path (SQLite goes on using the open file, unseen by anyone else)."""

from __future__ import annotations

import os
from pathlib import Path


def file_identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of the file at `path`; None when nothing is there."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_dev, stat.st_ino
