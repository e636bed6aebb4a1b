"""State files and directories created private to the service's user (0600 and 0700).

The ledger, its input documents, keys and tokens are evidence and secrets: no other local user
should read them, whatever the umask. Every folder mlgate creates (caches, copies, restored
policies) is made the same way, so nothing under MLGATE_HOME is open to others.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
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


def private_copy(source: Path, target: Path) -> Path:
    """Copy the tree `source` to `target` (which must not exist) with folders 0700 and files
    0600, whatever the source's modes and the umask (shutil.copytree would copy the modes);
    returns `target`. OSError as the copy raises it."""
    if target.exists():
        raise FileExistsError(target)
    private_directory(target)
    for path in sorted(source.rglob("*")):
        copied = target / path.relative_to(source)
        if path.is_dir():
            private_directory(copied)
            continue
        private_directory(copied.parent)
        fd = os.open(copied, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        with os.fdopen(fd, "wb") as out, path.open("rb") as content:
            shutil.copyfileobj(content, out)
    return target


@contextlib.contextmanager
def private_umask() -> Iterator[None]:
    """Within it, what anything creates is private (umask 077): for a library that makes files
    and folders of its own, as MLflow does for a local store. The umask belongs to the whole
    process, so only a command that creates nothing else meanwhile may use it."""
    previous = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(previous)
