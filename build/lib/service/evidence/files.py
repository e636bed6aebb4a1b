"""Evidence from a directory of files, one document per file (the CLI's --evidence DIR)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from service.canonical import unencodable
from service.errors import EvidenceUnreadable, unconvertible

# Input document key -> file stem. Each may be .json, .yaml or .yml.
EVIDENCE_FILES = {
    "model_card": "model_card",
    "metrics": "metrics",
    "lineage": "lineage",
    "baseline": "baseline",
    "history": "history",
    "approvals": "approvals",
    "waivers": "waivers",
    "snapshots": "snapshots",
}
SUFFIXES = (".json", ".yaml", ".yml")


def read_evidence_dir(directory: Path) -> dict[str, Any]:
    """Every evidence document found in `directory`, by input-document key.

    An absent file is simply absent (the policy denies on what is missing); a file that is there
    but cannot be read or parsed is an error, since guessing its content would be worse.
    """
    if not directory.is_dir():
        raise EvidenceUnreadable(f"evidence directory {directory} does not exist")
    evidence: dict[str, Any] = {}
    for key, stem in EVIDENCE_FILES.items():
        found = [directory / f"{stem}{suffix}" for suffix in SUFFIXES]
        present = [path for path in found if path.is_file()]
        if len(present) > 1:
            names = ", ".join(p.name for p in present)
            raise EvidenceUnreadable(f"{directory}: {names} all hold {key}; keep exactly one")
        if present:
            evidence[key] = read_document(present[0])
    return evidence


def read_document(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise EvidenceUnreadable(f"{path}: cannot be read ({exc})") from None
    try:
        document = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except RecursionError:
        raise EvidenceUnreadable(f"{path}: arrays and objects nest too deeply to read") from None
    except json.JSONDecodeError as exc:
        raise EvidenceUnreadable(
            f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}"
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise EvidenceUnreadable(f"{path}{where}: invalid YAML: {problem}") from None
    except ValueError as exc:  # well formed, but a value that cannot be converted
        raise EvidenceUnreadable(f"{path}: {unconvertible(exc)}") from None
    problem = unencodable(document)
    if problem is not None:
        raise EvidenceUnreadable(f"{path}: {problem[0]}: {problem[1]}")
    return document
