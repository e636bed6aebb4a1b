"""State files and directories created private to the service's user (0600 and 0700).

The ledger, its input documents, keys and tokens are evidence and secrets: no other local user
should read them, whatever the umask.
"""

from __future__ import annotations

import os
from pathlib import Path

DIRECTORY_MODE = 0o700
FILE_MODE = 0o600


def private_directory(path: Path) -> None:
    """Create `path` (and missing parents) mode 0700; an existing directory is left as it is."""
    missing = []
    at = path
    while not at.exists():
        missing.append(at)
        at = at.parent
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=DIRECTORY_MODE)
        except FileExistsError:
            continue
        os.chmod(directory, DIRECTORY_MODE)  # mkdir's mode is masked by the umask


def private_file(path: Path) -> None:
    """Create an empty `path` mode 0600 if it does not exist (before a database opens it)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return
    os.close(fd)
