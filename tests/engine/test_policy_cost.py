"""The policies' cost is linear in the input: a request four times larger costs about four times
as much to judge, never sixteen, whichever lists grow and whether they grow alone or together.

Cost is counted, not timed: `opa eval --profile` reports how many times OPA evaluated each
expression, which is the same on any host. A helper that pairs every item of one list with every
item of another (each denial with each waiver, say) makes that count grow as the product of the
two; the input limits (service/api/limits.py) only bound such a product, this test rules it out.
"""

from __future__ import annotations

import copy
import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from service.engine.bundle import write_bundle
from service.engine.policyset import load_policy_set
from tests.conftest import POLICY_DIR, fixture_input

SMALL, LARGE = 32, 128
# Linear cost gives a ratio of at most LARGE / SMALL (the fixed part of the cost only lowers
# it); a product of two growing lists gives about its square.
MOST_RATIO = 1.25 * LARGE / SMALL

Grow = Callable[[dict[str, Any], int], None]


def _attributes(doc: dict[str, Any], n: int) -> None:
    names = [f"attr{i}" for i in range(n)]
    doc["model_card"]["protected_attributes"] = names
    # Two groups each, neither reporting the fairness metric: two denials per attribute.
    doc["metrics"]["by_group"] = {a: {"g1": {}, "g2": {"tpr": 0.5}} for a in names}


def _groups(doc: dict[str, Any], n: int) -> None:
    doc["model_card"]["protected_attributes"] = ["age_band"]
    groups = {f"g{i}": ({"tpr": 0.5 + i / (4 * n)} if i % 2 else {}) for i in range(n)}
    doc["metrics"]["by_group"] = {"age_band": groups}


def _waivers(doc: dict[str, Any], n: int) -> None:
    # For a code the request is denied on, but for another version: every one is looked at.
    waiver = doc["waivers"][0]
    doc["waivers"] = [dict(waiver, version=f"other-{i}") for i in range(n)] + [waiver]


def _approvals(doc: dict[str, Any], n: int) -> None:
    approval = doc["approvals"][0]
    doc["approvals"] = [dict(approval, status="pending") for _ in range(n)] + [approval]


def _history(doc: dict[str, Any], n: int) -> None:
    prior = doc["history"][0]
    doc["history"] = [dict(prior, stage=f"stage-{i}") for i in range(n)] + doc["history"]


def _requesters(doc: dict[str, Any], n: int) -> None:
    doc["requesters"] = [f"caller-{i}@example.com" for i in range(n)]


def _datasets(doc: dict[str, Any], n: int) -> None:
    doc["lineage"]["datasets"] = [
        {"name": f"d{i}", "source": "s3://bucket/d", "context": "training"} for i in range(n)
    ]


def _out_of_scope_uses(doc: dict[str, Any], n: int) -> None:
    doc["model_card"]["out_of_scope_uses"] = [f"use {i}" for i in range(n)]


def _denials_and_waivers(doc: dict[str, Any], n: int) -> None:
    # The pair the waiver matching multiplied: two denials per attribute, each waivable, and
    # waivers of their code for other versions.
    _attributes(doc, n)
    waiver = doc["waivers"][0]
    doc["waivers"] += [
        dict(waiver, rule_code="FAIRNESS_EVIDENCE_MISSING", version=f"other-{i}") for i in range(n)
    ]


GROWERS: dict[str, Grow] = {
    "protected attributes": _attributes,
    "groups of one attribute": _groups,
    "waivers": _waivers,
    "approvals": _approvals,
    "history": _history,
    "lineage datasets": _datasets,
    "denials with waivers": _denials_and_waivers,
}
# Lists the policies look up in or pass whole to a built-in rather than walk: their size alone
# costs nothing counted, so they grow only together with the others.
UNWALKED: tuple[Grow, ...] = (_requesters, _out_of_scope_uses)


def _all_together(doc: dict[str, Any], n: int) -> None:
    for grow in (*GROWERS.values(), *UNWALKED):
        if grow is not _groups:  # it replaces the attributes; the others add to one another
            grow(doc, n)
    # Every denial waivable by a matching waiver's code, so denials meet waivers.
    waiver = doc["waivers"][-1]
    doc["waivers"] += [
        dict(waiver, rule_code="FAIRNESS_EVIDENCE_MISSING", version=f"other-{i}") for i in range(n)
    ]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_bundle(
        load_policy_set(POLICY_DIR), tmp_path_factory.mktemp("cost") / "bundle.tar.gz"
    )


def evaluations(opa: Path, bundle: Path, doc: dict[str, Any], work: Path) -> int:
    """How many expression evaluations the promotion decision takes on `doc`."""
    path = work / "input.json"
    path.write_text(json.dumps(doc))
    # fmt: off
    ran = subprocess.run(
        [str(opa), "eval", "--bundle", str(bundle), "--input", str(path), "--format", "json",
         "--profile", "--profile-limit", "1000000", "data.mlgate.promotion.decision"],
        capture_output=True, text=True, check=True,
    )
    # fmt: on
    result = json.loads(ran.stdout)
    assert result["result"][0]["expressions"][0]["value"]["outcome"] in {"allow", "hold", "deny"}
    return sum(int(row["num_eval"]) for row in result["profile"])


@pytest.mark.parametrize("grow", [*GROWERS.values(), _all_together], ids=[*GROWERS, "all"])
def test_cost_grows_linearly_with_the_input(
    grow: Grow, opa_path: Path, bundle: Path, tmp_path: Path
) -> None:
    base = fixture_input("waived")
    counts = []
    for n in (SMALL, LARGE):
        doc = copy.deepcopy(base)
        grow(doc, n)
        counts.append(evaluations(opa_path, bundle, doc, tmp_path))
    small, large = counts
    assert large > small, "the grown list was not evaluated at all: the test measures nothing"
    assert large / small <= MOST_RATIO, (
        f"{LARGE / SMALL:.0f}x the items cost {large / small:.1f}x the evaluations "
        f"({small} -> {large}): some helper pairs items of growing lists"
    )
