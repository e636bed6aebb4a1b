"""The embedded OPA engine: loading, revisions, clear load errors, and fail-closed evaluation."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from service.decision.judge import Judge
from service.engine.bindings import bridge_library
from service.engine.embedded import EmbeddedEngine
from service.engine.policyset import load_policy_set
from service.errors import PolicyLoadError
from service.gates.registry import default_gates
from service.schemas import default_schemas


def gatekeeper_for(policy_dir: Path) -> Judge:
    return Judge(EmbeddedEngine(load_policy_set(policy_dir)), default_schemas(), default_gates())


def test_revision_is_stable_for_the_same_files(policy_copy: Callable[[], Path]) -> None:
    root = policy_copy()
    assert load_policy_set(root).revision == load_policy_set(root).revision


def test_revision_changes_when_a_data_file_changes(policy_copy: Callable[[], Path]) -> None:
    root = policy_copy()
    before = load_policy_set(root).revision
    config = root / "data" / "promotion.yaml"
    config.write_text(config.read_text().replace("auc: 0.90", "auc: 0.91"))
    assert load_policy_set(root).revision != before


def test_config_files_become_data_mlgate_config(engine: EmbeddedEngine) -> None:
    floors = engine.policy_set.config["promotion"]["tiers"]["high"]["stages"]["production"]
    assert floors["floors"]["auc"] == 0.90


def test_raising_a_threshold_in_data_flips_the_outcome_without_touching_rego(
    policy_copy: Callable[[], Path], approved_input: dict[str, Any]
) -> None:
    root = policy_copy()
    rego_before = {p: p.read_text() for p in root.rglob("*.rego")}
    config = root / "data" / "promotion.yaml"
    config.write_text(config.read_text().replace("floors: {auc: 0.90,", "floors: {auc: 0.95,"))

    decision = gatekeeper_for(root).evaluate(approved_input)

    assert {p: p.read_text() for p in root.rglob("*.rego")} == rego_before
    assert decision.outcome == "deny"
    assert [(r.code, r.actual, r.threshold) for r in decision.reasons] == [
        ("METRIC_BELOW_FLOOR", 0.9412, 0.95)
    ]


def test_syntax_error_names_file_and_line(policy_copy: Callable[[], Path]) -> None:
    root = policy_copy()
    rego = root / "promotion" / "promotion.rego"
    lines = rego.read_text().splitlines()
    at = lines.index("stage := input.target.stage")
    lines[at] = "stage := input.target.stage )"
    rego.write_text("\n".join(lines) + "\n")

    with pytest.raises(PolicyLoadError) as raised:
        gatekeeper_for(root)

    assert f"policies/promotion/promotion.rego:{at + 1}:" in raised.value.message
    assert "rego_parse_error" in raised.value.message


def test_type_error_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "gate.rego").write_text("package mlgate.promotion\n\ndecision := count(1)\n")

    with pytest.raises(PolicyLoadError) as raised:
        gatekeeper_for(tmp_path)

    assert f"{tmp_path.name}/gate.rego:3: rego_type_error" in raised.value.message


def test_invalid_data_file_names_file_and_line(policy_copy: Callable[[], Path]) -> None:
    root = policy_copy()
    (root / "data" / "extra.yaml").write_text("tiers:\n  high: [unclosed\n")

    with pytest.raises(PolicyLoadError, match=r"data/extra.yaml:\d+: invalid YAML"):
        load_policy_set(root)


def _single_policy(tmp_path: Path, body: str) -> Judge:
    (tmp_path / "promotion.rego").write_text(f"package mlgate.promotion\n\n{body}\n")
    return gatekeeper_for(tmp_path)


def test_undefined_decision_denies(tmp_path: Path, approved_input: dict[str, Any]) -> None:
    gate = _single_policy(tmp_path, 'decision := {"outcome": "allow"} if input.model.name == "x"')

    decision = gate.evaluate(approved_input)

    assert decision.outcome == "deny"
    assert [r.code for r in decision.reasons] == ["POLICY_RESULT_INVALID"]
    assert "data.mlgate.promotion.decision is undefined" in decision.reasons[0].message


def test_a_gate_no_policy_is_written_for_denies_saying_so(
    tmp_path: Path, approved_input: dict[str, Any]
) -> None:
    (tmp_path / "other.rego").write_text("package mlgate.promotionx\n\nx := 1\n")
    gate = gatekeeper_for(tmp_path)

    decision = gate.evaluate(approved_input)

    assert decision.outcome == "deny"
    assert [r.code for r in decision.reasons] == ["POLICY_RESULT_INVALID"]
    assert "no Rego file in the policy directory declares package mlgate.promotion" in (
        decision.reasons[0].message
    )


def test_malformed_decision_denies_naming_the_problem(
    tmp_path: Path, approved_input: dict[str, Any]
) -> None:
    gate = _single_policy(tmp_path, 'decision := {"outcome": "yes", "reasons": []}')

    decision = gate.evaluate(approved_input)

    assert decision.outcome == "deny"
    messages = [r.message for r in decision.reasons]
    assert any("outcome" in m and "yes" in m for m in messages), messages
    assert any("warnings: required property missing" in m for m in messages), messages


def test_deny_without_reasons_is_malformed(tmp_path: Path, approved_input: dict[str, Any]) -> None:
    gate = _single_policy(
        tmp_path, 'decision := {"outcome": "hold", "reasons": [], "warnings": []}'
    )

    decision = gate.evaluate(approved_input)

    assert decision.outcome == "deny"
    assert decision.reasons[0].code == "POLICY_RESULT_INVALID"


def test_runtime_error_in_policy_denies(tmp_path: Path, approved_input: dict[str, Any]) -> None:
    gate = _single_policy(
        tmp_path,
        'decision := {"outcome": "allow", "reasons": [], "warnings": []} if {\n'
        "\tx := 1 / (count(input.model.name) - count(input.model.name))\n"
        "\tx > 0\n}",
    )

    decision = gate.evaluate(approved_input)

    assert decision.outcome == "deny"
    assert [r.code for r in decision.reasons] == ["POLICY_ENGINE_ERROR"]
    assert "divide by zero" in decision.reasons[0].message


def test_clock_comes_from_the_input_so_past_decisions_replay(
    gatekeeper: Judge, approved_input: dict[str, Any]
) -> None:
    from tests.conftest import fixture_input

    waived = fixture_input("waived")
    assert gatekeeper.evaluate(waived).outcome == "allow"
    waived["requested_at"] = "2031-01-01T00:00:00Z"  # after the waiver expired
    assert gatekeeper.evaluate(waived).outcome == "deny"


def test_input_digest_covers_the_whole_canonical_document(
    gatekeeper: Judge, approved_input: dict[str, Any]
) -> None:
    from service.canonical import canonical_json, document_digest

    approved_input["model_card"]["description"] = "Détecteur de fraude — ünïcode ✓"
    decision = gatekeeper.evaluate(approved_input)

    assert decision.input_digest == document_digest(approved_input)
    assert decision.evidence_digests["lineage"] == document_digest(approved_input["lineage"])
    assert set(decision.evidence_digests) == {
        "model_card",
        "metrics",
        "baseline",
        "lineage",
        "history",
        "approvals",
    }
    assert canonical_json(approved_input).decode().count("ünïcode") == 1


def test_embedded_engine_is_the_opa_version_of_the_opa_binary(opa_path: Path) -> None:
    """`make install` builds the bindings' bridge against the pinned OPA (scripts/opa_bindings.sh),
    so the embedded engine, `opa` and the OPA server backend evaluate with one OPA: the index's
    wheel (OPA v1.20.2) took about 1.6x as long on the promotion decision."""
    go = shutil.which(os.environ.get("GO", "go"))
    if go is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("no Go toolchain: CI builds the embedded engine with it")
        pytest.skip("no Go toolchain to read the bridge library's build information")
    shown = subprocess.run([opa_path, "version"], capture_output=True, text=True, check=True)
    binary = re.search(r"^Version: (\S+)$", shown.stdout, re.MULTILINE)
    built = subprocess.run(
        [go, "version", "-m", str(bridge_library())], capture_output=True, text=True, check=True
    )
    embedded = re.search(r"\sdep\s+github\.com/open-policy-agent/opa\s+v(\S+)", built.stdout)
    assert binary is not None and embedded is not None, (shown.stdout, built.stdout)
    assert embedded.group(1) == binary.group(1)
