"""Files of upstream projects at pinned versions (CRDs, the Go source behind them), fetched by
scripts/crds.sh into .tools/crds/, and a CRD's schema as a validator, for the tests that hold
examples and contracts to what those versions accept.

Without Go the files cannot be fetched: the tests that need them are skipped, saying so, and
fail instead in CI (CI=true), where a skipped check would prove nothing.
"""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import yaml

from service.settings import PROJECT_ROOT

SCRIPT = PROJECT_ROOT / "scripts" / "crds.sh"


def module_files(module_version: str, *paths: str) -> list[Path]:
    """The files `paths` of the Go module `module_version` (e.g.
    github.com/fluxcd/flagger@v1.36.1), fetched by scripts/crds.sh when not there yet."""
    local = [PROJECT_ROOT / ".tools" / "crds" / module_version / p for p in paths]
    if all(p.is_file() for p in local):
        return local
    if shutil.which(os.environ.get("GO", "go")) is None:
        reason = f"Go is not installed, so {module_version} cannot be fetched (scripts/crds.sh)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason}; CI must run these checks")
        pytest.skip(reason)
    done = subprocess.run(
        ["bash", str(SCRIPT), module_version, *paths],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, f"scripts/crds.sh failed:\n{done.stderr}"
    return [Path(line) for line in done.stdout.splitlines()]


def crd_schema(crd_file: Path, kind: str, version: str) -> dict[str, Any]:
    """The openAPIV3Schema of `kind` at `version` in a file of CustomResourceDefinitions."""
    for document in yaml.safe_load_all(crd_file.read_text(encoding="utf-8")):
        if not isinstance(document, dict) or document.get("kind") != "CustomResourceDefinition":
            continue
        spec = document["spec"]
        if spec["names"]["kind"] != kind:
            continue
        for served in spec["versions"]:
            if served["name"] == version:
                schema: dict[str, Any] = served["schema"]["openAPIV3Schema"]
                return schema
    raise LookupError(f"{crd_file} defines no {kind} at version {version}")


def closed(schema: Any) -> Any:
    """The schema with every object that lists `properties` closed to other keys, unless it
    preserves unknown fields: the API server's strict field validation (kubectl's default)
    refuses such a field rather than pruning it, and so must the test, or a misspelt key in
    an example would pass unnoticed."""
    if isinstance(schema, list):
        return [closed(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    result = {key: closed(value) for key, value in schema.items()}
    if (
        "properties" in schema
        and "additionalProperties" not in schema
        and not schema.get("x-kubernetes-preserve-unknown-fields")
    ):
        result["additionalProperties"] = False
    return result


def crd_validator(crd_file: Path, kind: str, group_version: str) -> Any:
    """A validator of `kind` objects (apiVersion `group_version`, e.g. flagger.app/v1beta1)
    by the CRD's schema, closed as `closed` says. The schema is OpenAPI 3.0's subset that
    Kubernetes takes, validated as JSON Schema draft 4 (the keywords it shares); formats are
    not checked (Kubernetes ignores those it does not know, such as `url`)."""
    version = group_version.rpartition("/")[2]
    schema = closed(copy.deepcopy(crd_schema(crd_file, kind, version)))
    schema["properties"]["apiVersion"] = {"enum": [group_version]}
    schema["properties"]["kind"] = {"enum": [kind]}
    schema["required"] = sorted({*schema.get("required", []), "apiVersion", "kind", "metadata"})
    return jsonschema_rs.Draft4Validator(schema)


def problems(validator: Any, document: Any) -> list[str]:
    """Each way `document` breaks the schema: "path: message"."""
    return [
        f"{'/'.join(map(str, error.instance_path)) or '(root)'}: {error.message}"
        for error in validator.iter_errors(document)
    ]
