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
    """Write the bundle to `output` (parent folders created); returns `output`."""
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(bundle_bytes(policy_set))
    return output


def _json(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, indent=2).encode() + b"\n"


# What an uploaded policy archive may unpack to: far above any policy set (the shipped one is
# some 200 KB), far below what would fill a disk.
MAX_UNPACKED_BYTES = 32 * 1024 * 1024
MAX_MEMBERS = 10_000


def unpack_policies(raw: bytes, directory: Path) -> Path:
    """Unpack a gzip-compressed tar of policies into `directory` (created): an OPA bundle as
    `bundle_bytes` writes it (Rego and `data.json` files), or a policy directory as it is on
    disk (its `data/*.yaml` thresholds then checked against their schemas when loaded).
    Returns `directory`, for `load_policy_set`.

    Members are extracted with tarfile's `data` filter (PEP 706: no absolute paths, no path
    leaving `directory`, no links out, no devices). Raises PolicyLoadError naming what is
    wrong: not gzip or not tar, more than MAX_MEMBERS members or MAX_UNPACKED_BYTES in all,
    or a member the filter refuses."""
    try:
        with tarfile.open(fileobj=io.BytesIO(raw), mode="r:gz") as tar:
            members = tar.getmembers()
            if len(members) > MAX_MEMBERS:
                raise PolicyLoadError(
                    f"the policy archive has {len(members)} members; at most {MAX_MEMBERS}"
                )
            size = sum(member.size for member in members)
            if size > MAX_UNPACKED_BYTES:
                raise PolicyLoadError(
                    f"the policy archive unpacks to {size} bytes; at most {MAX_UNPACKED_BYTES}"
                )
            directory.mkdir(parents=True, exist_ok=True)
            tar.extractall(directory, filter="data")
    except (tarfile.TarError, gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise PolicyLoadError(
            f"expected a gzip-compressed tar of policies (an OPA bundle as `mlgate bundle "
            f"build` writes it); it cannot be read: {exc}"
        ) from None
    return directory
