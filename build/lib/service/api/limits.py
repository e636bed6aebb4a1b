"""How many items each list or map of a decision request may hold.

A policy's cost grows with the evidence it walks (the fairness rules visit every protected
attribute and every group), so the decision route refuses an oversized list with a 422 naming
it, before the request reaches a decision worker: one client cannot tie a worker up for the
decision timeout and take other clients' queued requests down with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from service.errors import InvalidField

# (dotted path in the evidence, most items). Far above any real model card or report.
LIST_LIMITS: tuple[tuple[str, int], ...] = (
    ("model_card.protected_attributes", 64),
    ("model_card.out_of_scope_uses", 256),
    ("metrics.by_group", 64),  # protected attributes reported on
    ("lineage.datasets", 256),
)
# Groups per attribute in metrics.by_group (an attribute's values: age bands, regions...).
GROUPS_PER_ATTRIBUTE = 256


def check_limits(evidence: Mapping[str, Any]) -> None:
    """Raise InvalidField (422) naming the first list or map in `evidence` over its limit."""
    for path, most in LIST_LIMITS:
        found = _at(evidence, path)
        if isinstance(found, list | dict) and len(found) > most:
            raise InvalidField(
                f"evidence.{path}", f"holds {len(found)} items; at most {most} are accepted"
            )
    by_group = _at(evidence, "metrics.by_group")
    if isinstance(by_group, dict):
        for attribute, groups in by_group.items():
            if isinstance(groups, dict) and len(groups) > GROUPS_PER_ATTRIBUTE:
                raise InvalidField(
                    f"evidence.metrics.by_group.{attribute}",
                    f"holds {len(groups)} groups; at most {GROUPS_PER_ATTRIBUTE} are accepted",
                )


def _at(document: Mapping[str, Any], path: str) -> Any:
    found: Any = document
    for part in path.split("."):
        if not isinstance(found, Mapping):
            return None
        found = found.get(part)
    return found
