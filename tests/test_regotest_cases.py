"""The cases of a table test found without a trace (service/regotest/tablecases.py): the case
rule is made only where the body names its cases first, and a failing case is reported the
same way whichever way its cases were found."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.regotest.run import run_rego_tests
from service.regotest.tablecases import case_rules
from tests.test_regotest import write_library

CASES = '{"one": 1, "two": 2, "three": 3}'
# Table tests whose case "two" fails in its body (so it is absent from the rule's value).
NAMED_FIRST = f"test_cases[note] if {{\n\tsome note, n in {CASES}\n\tn != 2\n}}\n"
NAMED_LATER = f"test_cases[note] if {{\n\tcases := {CASES}\n\tsome note, n in cases\n\tn != 2\n}}\n"
NAMED_ON_ONE_LINE = f"test_cases[note] if {{ some note, n in {CASES}; n != 2 }}\n"
CASE_IS_THE_VALUE = 'test_cases[n] if {\n\tsome n in ["a", "b", "c"] # the cases\n\tn != "b"\n}\n'
FAILED_TWO = [
    ('t_test.test_cases["one"]', True),
    ('t_test.test_cases["three"]', True),
    ('t_test.test_cases["two"]', False),
]


def _module(*rules: str) -> str:
    return "package t_test\n\nimport rego.v1\n\n" + "\n".join(rules)


@pytest.mark.parametrize(
    ("rule", "gets_a_case_rule"),
    [
        (NAMED_FIRST, True),
        (NAMED_ON_ONE_LINE, True),
        (CASE_IS_THE_VALUE, True),
        (NAMED_LATER, False),
        (f"test_cases[note] if {{\n\tsome other, n in {CASES}\n\tnote := other\n}}\n", False),
    ],
    ids=["named-first", "one-line", "case-is-the-value", "named-later", "other-variable"],
)
def test_a_case_rule_is_made_only_where_the_body_names_its_cases_first(
    rule: str, gets_a_case_rule: bool
) -> None:
    found = case_rules({"lib/t/t_test.rego": _module(rule)})

    assert (("lib/t/t_test.rego", "test_cases") in found.rules) is gets_a_case_rule
    assert bool(found.modules) is gets_a_case_rule


def test_a_test_defined_twice_keeps_the_trace() -> None:
    twice = NAMED_FIRST + "\n" + NAMED_FIRST.replace(CASES, '{"four": 4}')
    assert case_rules({"lib/t/t_test.rego": _module(twice)}).rules == {}


@pytest.mark.parametrize("rule", [NAMED_FIRST, NAMED_ON_ONE_LINE, NAMED_LATER])
def test_a_case_whose_body_fails_is_reported_whichever_way_the_cases_are_found(
    tmp_path: Path, rule: str
) -> None:
    files = {"t/t.rego": "package t\n\nx := 1\n", "t/t_test.rego": _module(rule)}

    report = run_rego_tests(write_library(tmp_path / "lib", files))

    assert sorted((r.name, r.passed) for r in report.results) == FAILED_TWO
    assert [c.file for c in report.coverage] == ["lib/t/t.rego"]  # no case rule module


def test_a_case_value_is_reported_as_the_test_names_it(tmp_path: Path) -> None:
    files = {"t/t_test.rego": _module(CASE_IS_THE_VALUE)}

    report = run_rego_tests(write_library(tmp_path / "lib", files))

    assert sorted((r.name, r.passed) for r in report.results) == [
        ('t_test.test_cases["a"]', True),
        ('t_test.test_cases["b"]', False),
        ('t_test.test_cases["c"]', True),
    ]


def test_a_case_rule_opa_refuses_leaves_the_trace_to_find_the_cases(tmp_path: Path) -> None:
    # The package already has a rule of the case rule's name (a conflict OPA refuses).
    taken = "mlgate_cases_test_cases := 1\n"
    files = {"t/t_test.rego": _module(NAMED_FIRST, taken)}

    report = run_rego_tests(write_library(tmp_path / "lib", files))

    assert sorted((r.name, r.passed) for r in report.results) == FAILED_TWO


@pytest.mark.parametrize(
    "body",
    ["some n in [1, 2, 3]", "numbers := [1, 2, 3]\n\tsome n in numbers"],
    ids=["case-rule", "trace"],
)
def test_number_cases_are_named_as_the_rules_object_keys_them(tmp_path: Path, body: str) -> None:
    # The rule's value is an object, whose JSON keys are strings: the case 1 is "1". Compared
    # as numbers, every case was reported failed.
    rule = f"test_cases[n] if {{\n\t{body}\n\tn != 2\n}}\n"
    files = {"t/t_test.rego": _module(rule)}

    report = run_rego_tests(write_library(tmp_path / "lib", files))

    assert sorted((r.name, r.passed) for r in report.results) == [
        ('t_test.test_cases["1"]', True),
        ('t_test.test_cases["2"]', False),
        ('t_test.test_cases["3"]', True),
    ]
