"""The policies on disk: every Rego module and data file, and the revision hash over them all."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from service.engine.defaults import default_rule_problems
from service.engine.parsedchecks import load_problems as parsed_load_problems
from service.engine.problems import refuse
from service.engine.rulecheck import rule_problems
from service.engine.thresholds import config_problems
from service.engine.typecheck import input_annotation_problems, load_problems
from service.errors import PolicyLoadError
from service.settings import get_settings

DATA_SUFFIXES = (".yaml", ".yml", ".json")
# Files in <root>/data/ are settings: policies/data/promotion.yaml is data.mlgate.config.promotion.
CONFIG_DIR = "data"
CONFIG_PATH = ("mlgate", "config")
# Elsewhere, OPA's own convention: a data.json / data.yaml file is loaded at its folder's path.
OPA_DATA_NAMES = ("data.json", "data.yaml", "data.yml")


@dataclass(frozen=True)
class PolicySet:
    root: Path
    modules: dict[str, str]  # path relative to root -> Rego source
    data: dict[str, Any]  # the whole data document the files make
    revision: str
    files: tuple[str, ...] = field(default=())
    # Each file's bytes as read and hashed into `revision`: what a revision's record archives.
    contents: dict[str, bytes] = field(default_factory=dict)

    def defines_package(self, package: str) -> bool:
        """Some module of the set declares `package <package>`."""
        declaration = re.compile(rf"^package\s+{re.escape(package)}\s*$", re.MULTILINE)
        return any(declaration.search(source) for source in self.modules.values())

    @property
    def config(self) -> dict[str, Any]:
        node: Any = self.data
        for key in CONFIG_PATH:
            node = node.get(key, {}) if isinstance(node, dict) else {}
        return node if isinstance(node, dict) else {}


def load_policy_set(root: Path, schema_dir: Path | None = None) -> PolicySet:
    """Read every .rego and data file below `root`; the revision hashes paths and contents.

    Refuses the set (PolicyLoadError naming file:line of each problem) when a thresholds file
    breaks its schema in `schema_dir` (default: the settings' schema_dir), when a rule that
    can give a reason lacks METADATA code and severity or shares its code with another rule,
    when a `default` could answer allow, or when METADATA types input with a schema of its
    own; when a rule that can give a reason is read by no gate's decision (a misspelt set
    name or package), or a rule reads a path of data.mlgate.config its schema does not define
    (OPA's parse, some 0.15 s, once per process for a revision: service/engine/parsedchecks.py).
    With OPA's command-line tool here, also when a rule refers to an input path its gate's
    input schema does not define (a subprocess of some 0.2 s, once per process for a
    revision); the object.get keys into input and the warnings of `mlgate check` are left to
    it.
    """
    policy_set = read_policy_set(root)
    schemas = schema_dir or get_settings().schema_dir
    refuse(
        [
            *config_problems(root, policy_set.files, schemas),
            *rule_problems(policy_set),
            *default_rule_problems(policy_set.modules),
            *input_annotation_problems(policy_set.modules),
        ]
    )
    refuse(parsed_load_problems(policy_set, schemas))
    refuse(load_problems(policy_set, schemas))
    return policy_set


def read_policy_set(root: Path) -> PolicySet:
    """The files as they are, unchecked beyond parsing (`mlgate check` reports the rest)."""
    if not root.is_dir():
        raise PolicyLoadError(f"policy directory {root} does not exist or is not a directory")
    modules: dict[str, str] = {}
    data: dict[str, Any] = {}
    files: list[str] = []
    contents: dict[str, bytes] = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        data_path = _data_path(rel)
        if not rel.endswith(".rego") and data_path is None:
            continue
        raw = path.read_bytes()
        files.append(rel)
        contents[rel] = raw
        text = decode_text(rel, raw)
        if data_path is None:
            modules[rel] = text
        else:
            _merge_at(data, data_path, parse_data_text(rel, text), rel)
    return PolicySet(
        root=root,
        modules=modules,
        data=data,
        revision=revision_of(contents),
        files=tuple(files),
        contents=contents,
    )


def revision_of(contents: dict[str, bytes]) -> str:
    """The revision of files with these contents (path relative to the policy root -> bytes):
    SHA-256 over each path, a NUL and the SHA-256 of its bytes, in path order, as
    read_policy_set computes it (paths ordered by their parts, as pathlib orders them)."""
    digest = hashlib.sha256()
    for rel in sorted(contents, key=lambda rel: rel.split("/")):
        digest.update(rel.encode() + b"\0" + hashlib.sha256(contents[rel]).digest())
    return "sha256:" + digest.hexdigest()


def _data_path(rel: str) -> tuple[str, ...] | None:
    parts = rel.split("/")
    if len(parts) == 2 and parts[0] == CONFIG_DIR and parts[1].endswith(DATA_SUFFIXES):
        return (*CONFIG_PATH, parts[1].rsplit(".", 1)[0])
    if parts[-1] in OPA_DATA_NAMES:
        return tuple(parts[:-1])
    return None


def decode_text(rel: str, raw: bytes) -> str:
    """A policy or data file's text; PolicyLoadError naming `rel` if it is not UTF-8."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PolicyLoadError(f"{rel}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def parse_data_text(rel: str, text: str) -> Any:
    """A data file's document (JSON, or YAML by its suffix); PolicyLoadError naming `rel`."""
    try:
        return json.loads(text) if rel.endswith(".json") else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise PolicyLoadError(f"{rel}:{exc.lineno}: invalid JSON: {exc.msg}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise PolicyLoadError(f"{rel}{line}: invalid YAML: {exc}") from None


def _merge_at(data: dict[str, Any], path: tuple[str, ...], value: Any, rel: str) -> None:
    node = data
    for key in path[:-1]:
        node = node.setdefault(key, {})
    if not path:
        if not isinstance(value, dict):
            raise PolicyLoadError(f"{rel}: the root data file must hold an object")
        data.update(value)
    elif path[-1] in node:
        raise PolicyLoadError(f"{rel}: data.{'.'.join(path)} is already defined by another file")
    else:
        node[path[-1]] = value


def data_documents(policy_set: PolicySet) -> dict[tuple[str, ...], Any]:
    """Each data file's document by the path it is loaded at (policies/data/promotion.yaml is
    ("mlgate", "config", "promotion")), taken from the loaded set, not read again."""
    documents: dict[tuple[str, ...], Any] = {}
    for rel in policy_set.files:
        path = _data_path(rel)
        if path is None:
            continue
        node: Any = policy_set.data
        for key in path:
            node = node[key]
        documents[path] = node
    return documents


def is_test_module(rel: str) -> bool:
    """A Rego test file by OPA's convention (`*_test.rego`): not shipped to a server."""
    return rel.endswith("_test.rego")
