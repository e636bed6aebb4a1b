"""The checks that read OPA's parse of a policy set, for `mlgate check` and for the load.

Each finds a rule that compiles yet can never fire: a reason rule no gate's decision reads
(service/engine/unreadrules.py) and a reference into the thresholds their schemas do not
define (service/engine/configpaths.py). `mlgate check` runs them on the parse it already
has; the load parses the set's policy modules itself (some 0.15 s), once per process for a
given revision and schemas.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from service.engine.configpaths import ConfiguredPolicies, config_path_problems
from service.engine.inputschema import InputSchemas
from service.engine.problems import Problem
from service.engine.regoparse import parse_modules
from service.engine.unreadrules import unread_rule_problems
from service.errors import PolicyLoadError

# A set checked once per process: (revision, schemas digest) -> its problems.
_checked: dict[tuple[str, str], tuple[Problem, ...]] = {}


class ParsedPolicies(ConfiguredPolicies, Protocol):
    """What the load reads of a policy set (service/engine/policyset.PolicySet)."""

    @property
    def revision(self) -> str: ...


def parsed_problems(
    parsed: Mapping[str, Any], policy_set: ConfiguredPolicies, schemas: InputSchemas
) -> list[Problem]:
    """Reason rules no decision reads and undefined threshold paths, over OPA's parse of the
    set's modules (path -> AST; test modules are skipped)."""
    return [
        *unread_rule_problems(parsed, policy_set),
        *config_path_problems(parsed, policy_set, schemas),
    ]


def load_problems(policy_set: ParsedPolicies, schema_dir: Path) -> list[Problem]:
    """The same checks at load. A set OPA cannot parse gives none here: the engine refuses it
    in OPA's words when it compiles it. Schemas that cannot be read are a problem; without
    OPA's library it raises PolicyEngineUnavailable: unchecked, the set is not used."""
    digest = hashlib.sha256()
    for path in sorted(schema_dir.glob("*.json")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    key = (policy_set.revision, digest.hexdigest())
    if key not in _checked:
        _checked[key] = tuple(_problems(policy_set, schema_dir))
    return list(_checked[key])


def _problems(policy_set: ParsedPolicies, schema_dir: Path) -> list[Problem]:
    modules = {
        rel: src for rel, src in policy_set.modules.items() if not rel.endswith("_test.rego")
    }
    try:
        schemas = InputSchemas(schema_dir)
    except PolicyLoadError as exc:
        return [Problem("", 0, exc.message)]
    try:
        parsed = parse_modules(modules)
    except PolicyLoadError:
        return []
    return parsed_problems(parsed, policy_set, schemas)
