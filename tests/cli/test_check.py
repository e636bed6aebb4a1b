"""`mlgate check`: the static checks a platform engineer runs before committing policies,
and the mutation check that no easy mistake in the promotion policy leaves the gate allowing."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from service.decision.judge import Judge
from service.engine.embedded import EmbeddedEngine
from service.engine.policycheck import check_policy_dir
from service.engine.policyset import load_policy_set
from service.engine.rulecheck import reason_rule_heads
from service.errors import PolicyLoadError
from service.gates.registry import default_gates
from service.schemas import default_schemas
from service.settings import PROJECT_ROOT
from tests.conftest import POLICY_DIR, fixture_input
from tests.engine.conftest import opa_binary

SCHEMAS = PROJECT_ROOT / "schemas"
PROMOTION = "promotion/promotion.rego"  # the gate's entrypoint
# The promotion policy spans one file per concern; its tests are not policy.
PROMOTION_FILES = sorted(
    path.relative_to(POLICY_DIR).as_posix()
    for path in (POLICY_DIR / "promotion").glob("*.rego")
    if not path.name.endswith("_test.rego")
)
CONFIG = "data/promotion.yaml"


def mlgate_check(*args: str, opa: Path | None = None) -> subprocess.CompletedProcess[str]:
    tool = ["--opa", str(opa)] if opa else ["--no-opa"]
    return subprocess.run(
        [sys.executable, "-m", "service.cli.main", "check", *tool, *args],
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_shipped_policies_pass_the_check() -> None:
    run = mlgate_check(str(POLICY_DIR))

    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith("ok: 55 modules, 3 data files, 67 reason rules checked")


def test_each_problem_is_a_file_line_and_the_exit_code_is_1(
    policy_copy: Callable[[], Path],
) -> None:
    root = policy_copy()
    config = root / CONFIG
    config.write_text(
        config.read_text().replace(
            "ceilings: {latency_p99_ms: 80}", "ceilings: {latency_p99_ms: 8e1}", 1
        )
    )
    (root / "promotion" / "extra.rego").write_text(
        "package mlgate.promotion\n\ndeny contains 1 if input.x\n"
    )

    run = mlgate_check(str(root))
    line = 1 + config.read_text().splitlines().index(
        next(t for t in config.read_text().splitlines() if "8e1" in t)
    )

    assert run.returncode == 1
    assert run.stdout.splitlines() == [
        f"{root}/{CONFIG}:{line}: tiers.high.stages.staging.ceilings.latency_p99_ms: "
        "found the text '8e1' where a number belongs: "
        "YAML 1.1 reads 8e1 as text; write 80 or 8.0e+1",
        f"{root}/promotion/extra.rego:3: a rule adding to `deny` needs METADATA with title and "
        "custom: {code, severity}; it has none",
        "2 problem(s): 56 modules, 3 data files, 68 reason rules checked; no opa tool: input "
        "paths against the gate schemas, opa check --strict and opa fmt not checked (--opa PATH)",
    ]


def test_a_compile_error_is_reported_at_its_file_and_line(policy_copy: Callable[[], Path]) -> None:
    root = policy_copy()
    (root / "promotion" / "broken.rego").write_text("package mlgate.promotion\n\nx := y\n")

    report = check_policy_dir(root, SCHEMAS, default_gates())

    assert [(p.file, p.line) for p in report.problems] == [("promotion/broken.rego", 3)]
    assert "var y is unsafe" in report.problems[0].message


def test_a_type_error_is_one_problem_printed_once(policy_copy: Callable[[], Path]) -> None:
    """The engine's `have:` and `want:` lines belong to the error, and `opa check` finding the
    same error is not a second problem."""
    root = policy_copy()
    (root / "promotion" / "typed.rego").write_text(
        "package mlgate.promotion\n\n_shouted := upper(1)\n"
    )

    run = mlgate_check(str(root), opa=opa_binary())

    assert run.returncode == 1
    found = [line for line in run.stdout.splitlines() if "typed.rego" in line or "have:" in line]
    assert found == [
        f"{root}/promotion/typed.rego:3: rego_type_error: upper: invalid argument(s); "
        "have: (number, ???); want: (x: string, y: string)"
    ]
    assert run.stdout.splitlines()[-1].startswith("1 problem(s): ")


def test_a_gate_without_its_entrypoint_fails_the_check(policy_copy: Callable[[], Path]) -> None:
    root = policy_copy()
    rego = root / PROMOTION
    rego.write_text(rego.read_text().replace("# entrypoint: true\n", ""))

    [problem] = check_policy_dir(root, SCHEMAS, default_gates()).problems

    assert problem.file in PROMOTION_FILES  # the package's first file: it spans several
    assert problem.line == 0
    assert problem.message.startswith("package mlgate.promotion has no `decision` rule")


def test_the_json_format_lists_problems() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "service.cli.main", "check", "--no-opa", "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
    )

    assert run.returncode == 0
    assert '"ok": true' in run.stdout and '"problems": []' in run.stdout


def test_the_opa_tool_joins_in_when_given(policy_copy: Callable[[], Path], tmp_path: Path) -> None:
    """A stand-in for OPA's command-line tool: its failures become problems of the check."""
    fake = tmp_path / "opa"
    fake.write_text('#!/bin/sh\necho "$1: pretend failure" >&2\nexit 1\n')
    fake.chmod(0o755)

    report = check_policy_dir(policy_copy(), SCHEMAS, default_gates(), str(fake))

    assert [p.message for p in report.problems] == [
        "opa check --strict: check: pretend failure",
        "opa fmt --fail: fmt: pretend failure",
    ]


def test_opa_fmt_names_the_file_it_would_change_in_one_line(
    policy_copy: Callable[[], Path],
) -> None:
    """`opa fmt --fail --list` prints the file on stdout and "unexpected diff" on stderr: they
    were two problems at the policy root, sorted apart, the second naming no file."""
    root = policy_copy()
    (root / "promotion" / "untidy.rego").write_text("package mlgate.promotion\n\n_x   :=   1\n")

    run = mlgate_check(str(root), opa=opa_binary())

    assert run.returncode == 1
    assert run.stdout.splitlines()[:-1] == [
        f"{root}/promotion/untidy.rego: opa fmt --fail: not formatted as `opa fmt` writes it "
        "(`opa fmt -w` rewrites it)"
    ]
    assert run.stdout.splitlines()[-1].startswith("1 problem(s): ")


def test_a_parse_error_is_one_problem_whoever_finds_it(policy_copy: Callable[[], Path]) -> None:
    """`opa fmt` reports a parse error over three lines (message, source, caret): they were
    three problems sorted into reverse order, beside the engine's own report of the error."""
    root = policy_copy()
    (root / "promotion" / "broken.rego").write_text("package mlgate.promotion\n\nx if { 1 + }\n")

    run = mlgate_check(str(root), opa=opa_binary())

    assert run.returncode == 1
    assert run.stdout.splitlines()[:-1] == [
        f"{root}/promotion/broken.rego:3: rego_parse_error: unexpected }} token; x if {{ 1 + }}; ^"
    ]
    assert run.stdout.splitlines()[-1].startswith("1 problem(s): ")


def test_the_shipped_policies_pass_the_check_with_opas_tool() -> None:
    opa = opa_binary()

    run = mlgate_check(str(POLICY_DIR), opa=opa)

    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout == f"ok: 55 modules, 3 data files, 67 reason rules checked; opa tool {opa}\n"


# Review finding: a fully documented rule reading `input.metrics.value.auc` (for `values`)
# passed `mlgate check` and `opa check --strict`, and never fired: a 0.92 model passed it.
AUC_FLOOR = """package mlgate.promotion

import data.mlgate.lib.reasons

# METADATA
# title: AUC hard floor
# description: Whatever the tier and stage, a candidate's AUC is at least 0.93.
# custom:
#   code: AUC_HARD_FLOOR
#   severity: critical
#   controls: ["SR 11-7 III.B"]
deny contains reason if {
	input.metrics.KEY.auc < 0.93
	msg := sprintf("auc %v is below the hard floor 0.93", [input.metrics.KEY.auc])
	reason := reasons.from_rule(rego.metadata.rule(), msg, {"metric": "auc"})
}
"""
UNDEFINED_VALUE = (
    "input.metrics.value.auc: promotion_input.schema.json defines no value in input.metrics "
    "(input.metrics has by_group, dataset, evaluated_at, run_id, values); a rule reading a path "
    "the input never has would never fire"
)


def test_a_misspelt_input_path_fails_the_check_and_the_load_at_its_file_and_line(
    policy_copy: Callable[[], Path],
) -> None:
    opa = opa_binary()
    root = policy_copy()
    (root / "promotion" / "auc_floor.rego").write_text(AUC_FLOOR.replace("KEY", "value"))
    plain = subprocess.run([opa, "check", "--strict", root], capture_output=True, check=False)

    run = mlgate_check(str(root), opa=opa)

    assert plain.returncode == 0  # OPA alone cannot know the input has no metrics.value
    assert run.returncode == 1
    assert run.stdout.splitlines()[:-1] == [
        f"{root}/promotion/auc_floor.rego:13: {UNDEFINED_VALUE}",
        f"{root}/promotion/auc_floor.rego:14: {UNDEFINED_VALUE}",
    ]
    with pytest.raises(PolicyLoadError) as refused:
        load_policy_set(root)
    assert f"promotion/auc_floor.rego:13: {UNDEFINED_VALUE}" in refused.value.message


def test_the_correct_path_passes_the_check_and_denies_below_the_floor(
    policy_copy: Callable[[], Path],
) -> None:
    opa = opa_binary()
    root = policy_copy()
    (root / "promotion" / "auc_floor.rego").write_text(AUC_FLOOR.replace("KEY", "values"))
    doc = fixture_input("approved")
    doc["metrics"]["values"]["auc"] = 0.92

    run = mlgate_check(str(root), opa=opa)
    engine = EmbeddedEngine(load_policy_set(root))
    decision = Judge(engine, default_schemas(), default_gates()).evaluate(doc)
    engine.close()

    assert run.returncode == 0, run.stdout
    assert run.stdout.splitlines() == [  # still silent without an auc: a warning says so
        f"{root}/promotion/auc_floor.rego:12: warning: AUC_HARD_FLOOR fires only when "
        "metrics.values.auc is given, which promotion_input.schema.json does not require: "
        "without it the rule is silent. If that is meant, list it in its METADATA under "
        "custom.when_present",
        f"ok, 1 warning(s): 56 modules, 3 data files, 68 reason rules checked; opa tool {opa}",
    ]
    assert decision.outcome == "deny"
    assert "AUC_HARD_FLOOR" in {r.code for r in decision.reasons}


def test_a_misspelt_key_object_get_reads_from_input_fails_the_check(
    policy_copy: Callable[[], Path],
) -> None:
    """`object.get` takes its keys as a value, so OPA's type checker cannot see them: misspelt
    here, nobody counted as having asked for the decision and a requester could approve it."""
    root = policy_copy()
    rego = root / PROMOTION
    right, wrong = 'object.get(input, "requesters", [])', 'object.get(input, "requestors", [])'
    lines = rego.read_text().splitlines()
    line = 1 + next(i for i, text in enumerate(lines) if right in text)
    rego.write_text(rego.read_text().replace(right, wrong))

    run = mlgate_check(str(root))

    assert run.returncode == 1
    [problem, _] = run.stdout.splitlines()
    assert problem.startswith(
        f"{root}/{PROMOTION}:{line}: object.get reads input.requestors: "
        "promotion_input.schema.json defines no requestors in input (input has "
    )
    assert problem.endswith("waivers); a misspelt key quietly yields the default")


# Review finding: a default allow on the gate's entrypoint passed `mlgate check`.
def test_a_default_allow_on_the_entrypoint_fails_the_check_and_the_load(
    policy_copy: Callable[[], Path],
) -> None:
    root = policy_copy()
    rego = root / PROMOTION
    default = 'default decision := {"outcome": "allow", "reasons": [], "warnings": []}'
    rego.write_text(rego.read_text() + f"\n{default}\n")
    line = len(rego.read_text().splitlines())
    expected = (
        f"{PROMOTION}:{line}: `default decision` gives package mlgate.promotion's entrypoint a "
        "value its rules did not decide; remove it: an undefined decision already denies, and "
        "a default would turn a later slip (a misspelt rule or input path) into a silent allow"
    )

    run = mlgate_check(str(root))

    assert run.returncode == 1
    assert run.stdout.splitlines()[0] == f"{root}/{expected}"
    with pytest.raises(PolicyLoadError, match=re.escape(expected)):
        load_policy_set(root)


# The mutation check: every easy mistake either fails `mlgate check` (and the load) or, where
# the mistake is a well-formed name the schema cannot know, still denies.


def _reason_rule_metadata_blocks() -> list[tuple[str, int, int]]:
    """(file, first line index, head line index) of the METADATA block of each reason rule."""
    blocks = []
    for rel in PROMOTION_FILES:
        lines = (POLICY_DIR / rel).read_text().splitlines()
        for number, _ in reason_rule_heads("\n".join(lines)):
            head = number - 1
            start = head
            while start > 0 and lines[start - 1].startswith("#"):
                start -= 1
            marks = [i for i in range(start, head) if lines[i] == "# METADATA"]
            if marks:  # a second rule of a set may share its code through its own block
                blocks.append((rel, marks[-1], head))
    return blocks


METADATA_BLOCKS = _reason_rule_metadata_blocks()


def test_every_reason_rule_of_the_promotion_policy_has_a_metadata_block() -> None:
    heads = [reason_rule_heads((POLICY_DIR / rel).read_text()) for rel in PROMOTION_FILES]
    assert len(METADATA_BLOCKS) == sum(map(len, heads)) == 31


@pytest.mark.parametrize(("rel", "start", "head"), METADATA_BLOCKS, ids=lambda v: str(v))
def test_deleting_a_rules_metadata_fails_the_check(
    policy_copy: Callable[[], Path], rel: str, start: int, head: int
) -> None:
    root = policy_copy()
    rego = root / rel
    lines = rego.read_text().splitlines()
    rego.write_text("\n".join(lines[:start] + lines[head:]) + "\n")

    problems = [str(p) for p in check_policy_dir(root, SCHEMAS, default_gates()).problems]

    assert any(f"{rel}:{start + 1}: a rule adding to" in p for p in problems), problems
    with pytest.raises(PolicyLoadError):
        load_policy_set(root)


def _config_keys() -> list[tuple[tuple[Any, ...], int, int]]:
    """(key path, 0-based line, column) of every key in the shipped thresholds file."""
    found = []

    def walk(node: Any, path: tuple[Any, ...]) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                found.append(((*path, key.value), key.start_mark.line, key.start_mark.column))
                walk(value, (*path, key.value))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, (*path, i))

    walk(yaml.compose((POLICY_DIR / CONFIG).read_text(), yaml.SafeLoader), ())
    return found


CONFIG_KEYS = _config_keys()
# Keys that are names of the user's choosing: a misspelt metric name is a metric the
# candidate does not report, so the gate denies with METRIC_MISSING (a fairness metric: every
# group lacks it, FAIRNESS_EVIDENCE_MISSING).
_NAME_PARENTS = {"floors": "METRIC_MISSING", "ceilings": "METRIC_MISSING"}
_NAME_PARENTS |= {"regression": "METRIC_MISSING", "fairness": "FAIRNESS_EVIDENCE_MISSING"}


def _misspelt(root: Path, line: int, column: int, key: str) -> None:
    config = root / CONFIG
    lines = config.read_text().splitlines()
    text = lines[line]
    assert text[column : column + len(key)] == key
    lines[line] = text[:column] + key[:-1] + text[column + len(key) :]
    config.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize(
    ("path", "line", "column"),
    CONFIG_KEYS,
    ids=lambda v: ".".join(map(str, v)) if isinstance(v, tuple) else str(v),
)
def test_misspelling_a_threshold_key_fails_the_check_or_denies(
    policy_copy: Callable[[], Path], path: tuple[Any, ...], line: int, column: int
) -> None:
    root = policy_copy()
    _misspelt(root, line, column, str(path[-1]))

    problems = check_policy_dir(root, SCHEMAS, default_gates()).problems

    if len(path) >= 2 and path[-2] in _NAME_PARENTS:
        assert problems == []
        tier = path[1]
        stage = path[3] if path[2] == "stages" else "production"
        doc = fixture_input("approved", stage=stage)
        doc["model"]["risk_tier"] = doc["model_card"]["risk_tier"] = tier
        if "first_deployment" in path:  # its limits apply while no champion is on record
            del doc["baseline"]
        engine = EmbeddedEngine(load_policy_set(root))
        decision = Judge(engine, default_schemas(), default_gates()).evaluate(doc)
        engine.close()
        assert decision.outcome == "deny"
        assert _NAME_PARENTS[path[-2]] in {r.code for r in decision.reasons}
    else:
        assert problems, f"misspelling {'.'.join(map(str, path))} passed the check"
        assert any(
            p.line == line + 1 or re.search(r"\bis not one of\b", p.message) for p in problems
        )
        with pytest.raises(PolicyLoadError):
            load_policy_set(root)


@pytest.mark.parametrize(
    ("original", "misspelt"),
    [
        ("  - APPROVAL_REJECTED", "  - APROVAL_REJECTED"),
        ("  roles: {}", "  roles: {METRIC_BELOW_FLOR: [model-risk-officer]}"),
    ],
)
def test_a_misspelt_code_in_the_thresholds_fails_the_check(
    policy_copy: Callable[[], Path], original: str, misspelt: str
) -> None:
    """Found by a newcomer: a misspelt non_waivable code passed the check, and a waiver then
    turned a recorded rejection into an allow."""
    root = policy_copy()
    config = root / CONFIG
    assert original in config.read_text()
    config.write_text(config.read_text().replace(original, misspelt, 1))

    run = mlgate_check(str(root))

    assert run.returncode == 1
    assert "which no rule has" in run.stdout
