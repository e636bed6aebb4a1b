"""No `default` may answer allow (review finding: a default allow on the entrypoint loaded)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from service.engine.defaults import default_rule_lines, default_rule_problems
from service.engine.policyset import load_policy_set
from service.errors import PolicyLoadError

WHY = (
    "an undefined decision already denies, and a default would turn a later slip "
    "(a misspelt rule or input path) into a silent allow"
)
DEFAULT_ALLOW = 'default decision := {"outcome": "allow", "reasons": [], "warnings": []}'


def problems_of(source: str, package: str = "mlgate.promotion") -> list[str]:
    return [str(p) for p in default_rule_problems({"x.rego": f"package {package}\n\n{source}\n"})]


def test_a_default_allow_on_the_entrypoint_refuses_the_policy_set(
    policy_copy: Callable[[], Path],
) -> None:
    # On the old code this loaded and `mlgate check` passed: any rule slip became an allow.
    root = policy_copy()
    rego = root / "promotion" / "promotion.rego"
    rego.write_text(rego.read_text() + f"\n{DEFAULT_ALLOW}\n")
    line = len(rego.read_text().splitlines())

    with pytest.raises(PolicyLoadError) as refused:
        load_policy_set(root)

    assert refused.value.message == (
        "the policy set is refused (1 problem):\n"
        f"promotion/promotion.rego:{line}: `default decision` gives package mlgate.promotion's "
        f"entrypoint a value its rules did not decide; remove it: {WHY}"
    )


def test_any_default_on_a_gates_entrypoint_is_refused_whatever_its_value() -> None:
    assert problems_of('default decision := {"outcome": "deny"}') == [
        "x.rego:3: `default decision` gives package mlgate.promotion's entrypoint a value its "
        f"rules did not decide; remove it: {WHY}"
    ]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('default outcome := "allow"', '`default outcome` holds "allow" in its value'),
        (
            'default _fallback := {\n\t"outcome": "allow",\n\t"reasons": [],\n}',
            '`default _fallback` holds "allow" in its value',
        ),
        ('default _f(_) := ["deny", "allow"]', '`default _f` holds "allow" in its value'),
        ('default outcome := "\\u0061llow"', '`default outcome` holds "allow" in its value'),
        ("default outcome := `allow`", '`default outcome` holds "allow" in its value'),
        ('default outcome = "allow"', '`default outcome` holds "allow" in its value'),
        ('default x.y := {"allow": true}', '`default x.y` holds "allow" in its value'),
        (
            'default outcome := [o | o := concat("", ["al", "low"])]',
            "`default outcome` computes its value with a comprehension",
        ),
        ("default allow := true", "`default allow := true` allows whatever"),
    ],
)
def test_a_default_that_is_or_holds_allow_is_refused(source: str, expected: str) -> None:
    [problem] = problems_of(source, package="mlgate.lib.extra")

    assert problem.startswith(f"x.rego:3: {expected}")


@pytest.mark.parametrize(
    "source",
    [
        'default tier := "high"',
        "default count_ok := false",
        'default reasons := {"note": "allowed only with approval"}',
        'decision := {"outcome": "allow"} if false',  # not a default: undefined when false
        '# default decision := {"outcome": "allow"}',
        'msg := "default decision := \\"allow\\""',
    ],
)
def test_defaults_that_cannot_answer_allow_pass(source: str) -> None:
    assert problems_of(source) == []


def test_the_scan_finds_every_default_head_opa_would_parse() -> None:
    source = 'package p\n\n# default x := 1\ndefault a := 1\n\ndefault b(_) := "x"\n'

    assert default_rule_lines(source) == [4, 6]
