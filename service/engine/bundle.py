"""An OPA bundle of a policy set: `.manifest` (revision, roots), the Rego without its tests, and
each data file as `data.json` at its data path; `opa run --server --bundle FILE` loads it."""

from __future__ import annotations

import gzip
import io
import json
import re
import tarfile
import zlib
from pathlib import Path

from service.engine.policyset import PolicySet, data_documents, is_test_module
from service.errors import PolicyLoadError
from service.statefiles import private_directory

_PACKAGE = re.compile(r"^package\s+([A-Za-z_][A-Za-z0-9_]*)", re.MULTILINE)
# A fixed time in every member keeps a bundle's bytes a function of the policy set alone.
_MTIME = 0


def bundle_roots(policy_set: PolicySet) -> list[str]:
    """The top-level names the bundle owns: the first segment of every package and data path.

    A server refuses writes under these roots (OPA keeps them for the bundle)."""
    roots = {m.group(1) for src in policy_set.modules.values() if (m := _PACKAGE.search(src))}
    roots.update(path[0] for path in data_documents(policy_set) if path)
    return sorted(roots)


def manifest(policy_set: PolicySet) -> dict[str, object]:
    return {"revision": policy_set.revision, "roots": bundle_roots(policy_set)}


def bundle_bytes(policy_set: PolicySet) -> bytes:
    """The bundle as gzip-compressed tar bytes, identical for identical policy sets."""
    members: dict[str, bytes] = {".manifest": _json(manifest(policy_set))}
    for rel, source in sorted(policy_set.modules.items()):
        if not is_test_module(rel):
            members[rel] = source.encode()
    for path, document in sorted(data_documents(policy_set).items()):
        members["/".join([*path, "data.json"])] = _json(document)
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, content in members.items():
            info = tarfile.TarInfo(f"/{name}")
            info.size, info.mtime, info.mode = len(content), _MTIME, 0o644
            tar.addfile(info, io.BytesIO(content))
    return gzip.compress(raw.getvalue(), mtime=_MTIME)


def write_bundle(policy_set: PolicySet, output: Path) -> Path:
    """Write the bundle to `output` (missing parent folders created 0700: `make run-opa` writes
    it under MLGATE_HOME); returns `output`."""
    private_directory(output.parent)
    output.write_bytes(bundle_bytes(policy_set))
    return output


def _json(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, indent=2).encode() + b"\n"


# What an uploaded policy archive may unpack to: far above any policy set (the shipped one is
# some 200 KB), far below what would fill a disk.
MAX_UNPACKED_BYTES = 32 * 1024 * 1024
MAX_MEMBERS = 10_000
# An extended header (a PAX header, a GNU long name) names one member's path and times, some
# hundred bytes. tarfile parses a PAX header in time quadratic in its size on Pythons without
# the fix for CVE-2024-6232 (https://github.com/python/cpython/issues/121285): at these bounds
# a crafted archive costs seconds at most, not hours.
MAX_EXTENDED_HEADER_BYTES = 4096
MAX_EXTENDED_BYTES = 256 * 1024
_EXTENDED = (
    tarfile.XHDTYPE,
    tarfile.XGLTYPE,
    tarfile.SOLARIS_XHDTYPE,
    tarfile.GNUTYPE_LONGNAME,
    tarfile.GNUTYPE_LONGLINK,
)


def unpack_policies(raw: bytes, directory: Path) -> Path:
    """Unpack a gzip-compressed tar of policies into `directory` (created): an OPA bundle as
    `bundle_bytes` writes it (Rego and `data.json` files), or a policy directory as it is on
    disk (its `data/*.yaml` thresholds then checked against their schemas when loaded).
    Returns `directory`, for `load_policy_set`.

    Only regular files are unpacked (directories are made for them): a symbolic or hard link,
    a device or a FIFO is refused, since a chain of symbolic links can lead tarfile's `data`
    filter (PEP 706) to a path outside `directory` on Pythons without the fix for
    CVE-2025-4517 (https://github.com/python/cpython/issues/135034). The filter still refuses
    absolute paths and paths leaving `directory`. The headers are read one at a time, so a
    member whose size is negative (it would make tarfile read the same header for ever,
    CVE-2025-8194) or the member past MAX_MEMBERS is refused as soon as it is read. Raises
    PolicyLoadError naming what is wrong: not gzip or not tar, more than MAX_MEMBERS members
    or MAX_UNPACKED_BYTES in all, a member of another type, or one that cannot be written
    (a file where a directory of another member's path is, say)."""
    try:
        with _BoundedTarFile.open(fileobj=io.BytesIO(raw), mode="r:gz") as tar:
            files = _regular_files(tar)
            private_directory(directory)
            for member in files:
                try:
                    tar.extract(member, directory, set_attrs=False, filter="data")
                except OSError as exc:
                    raise PolicyLoadError(
                        f"the policy archive's member {member.name!r} cannot be unpacked: "
                        f"{exc.strerror}"
                    ) from None
    except (tarfile.TarError, gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise PolicyLoadError(
            f"expected a gzip-compressed tar of policies (an OPA bundle as `mlgate bundle "
            f"build` writes it); it cannot be read: {exc}"
        ) from None
    return directory


def _regular_files(tar: tarfile.TarFile) -> list[tarfile.TarInfo]:
    """The archive's regular files, its headers read one by one and checked as they come."""
    files: list[tarfile.TarInfo] = []
    count = size = 0
    while (member := tar.next()) is not None:
        count += 1
        if count > MAX_MEMBERS:
            raise PolicyLoadError(f"the policy archive has more than {MAX_MEMBERS} members")
        if member.isdir():
            continue
        if not member.isfile():
            raise PolicyLoadError(
                f"the policy archive's member {member.name!r} is {_kind(member)}; expected "
                "regular files and directories only (archive the files links point to: "
                "`tar -h`)"
            )
        if member.size < 0:
            raise PolicyLoadError(
                f"the policy archive's member {member.name!r} declares {member.size} bytes"
            )
        size += member.size
        if size > MAX_UNPACKED_BYTES:
            raise PolicyLoadError(
                f"the policy archive unpacks to more than {MAX_UNPACKED_BYTES} bytes"
            )
        files.append(member)
    return files


def _kind(member: tarfile.TarInfo) -> str:
    if member.issym():
        return f"a symbolic link to {member.linkname!r}"
    if member.islnk():
        return f"a hard link to {member.linkname!r}"
    return "a device or a FIFO" if member.isdev() else f"of tar type {member.type!r}"


class _BoundedTarInfo(tarfile.TarInfo):
    """A header whose size is checked before tarfile reads what it declares: never negative
    (tarfile would go back and read the same header for ever), an extended header within
    MAX_EXTENDED_HEADER_BYTES and all of them within MAX_EXTENDED_BYTES. `_proc_member` is
    tarfile's hook for a subclass (https://github.com/python/cpython/blob/3.11/Lib/tarfile.py)."""

    def _proc_member(self, archive: tarfile.TarFile) -> tarfile.TarInfo:
        if self.size < 0:
            raise PolicyLoadError(
                f"the policy archive's header at byte {self.offset} declares {self.size} bytes"
            )
        if self.type in _EXTENDED and isinstance(archive, _BoundedTarFile):
            archive.extended_bytes += self.size
            if self.size > MAX_EXTENDED_HEADER_BYTES or (
                archive.extended_bytes > MAX_EXTENDED_BYTES
            ):
                raise PolicyLoadError(
                    f"the policy archive's extended header at byte {self.offset} declares "
                    f"{self.size} bytes; at most {MAX_EXTENDED_HEADER_BYTES} a header and "
                    f"{MAX_EXTENDED_BYTES} in all"
                )
        member: tarfile.TarInfo = super()._proc_member(archive)  # type: ignore[misc]
        return member


class _BoundedTarFile(tarfile.TarFile):
    """A TarFile reading `_BoundedTarInfo` headers and counting their extended headers' bytes."""

    tarinfo = _BoundedTarInfo
    extended_bytes = 0
