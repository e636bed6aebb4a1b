"""The seam between the decision path and the gates holds: no module outside service/gates/
decides anything by a gate's name. (The import rules of DESIGN.md are `lint-imports`'s, in
`make test`; this is what an import contract cannot see.)"""

from __future__ import annotations

import ast
from pathlib import Path

from service.gates.registry import default_gates
from service.settings import PROJECT_ROOT

SERVICE = PROJECT_ROOT / "service"
GATES_PACKAGE = SERVICE / "gates"


def gate_name_comparisons(path: Path, names: set[str]) -> list[str]:
    """`x == "promotion"`, `"rollback" in (...)` and the like in one module, as file:line."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Compare):
            continue
        operands = [node.left, *node.comparators]
        for operand in operands:
            elements = (
                operand.elts if isinstance(operand, ast.Tuple | ast.List | ast.Set) else [operand]
            )
            if any(isinstance(e, ast.Constant) and e.value in names for e in elements):
                found.append(f"{path}:{node.lineno}")
    return found


def test_no_module_outside_the_gates_compares_a_gate_name() -> None:
    names = set(default_gates())
    modules = [p for p in SERVICE.rglob("*.py") if GATES_PACKAGE not in p.parents]

    found = [hit for path in modules for hit in gate_name_comparisons(path, names)]

    assert found == [], "the path must be handed a gate spec, not branch on a gate's name"


def test_the_scan_finds_a_comparison_when_there_is_one(tmp_path: Path) -> None:
    module = tmp_path / "leaky.py"
    module.write_text('def f(gate):\n    return gate == "promotion" or gate in ("rollback",)\n')

    assert gate_name_comparisons(module, {"promotion", "rollback"}) == [
        f"{module}:2",
        f"{module}:2",
    ]
