"""The composition root: builds the defaults once (policies from disk, the engine the settings
choose, the ledger, the evidence context, the gate registry) and the decision path over them
for local CLI mode. The API app composes its own in service/api/app.py from the same parts."""

from __future__ import annotations

import sys
from pathlib import Path

from service.audit.ledger import open_ledger
from service.decision.gatespec import GateRegistry
from service.decision.judge import Judge
from service.engine.factory import Engine, new_engine
from service.engine.policyset import load_policy_set
from service.evidence.context import EvidenceContext
from service.execution.inline import LocalPath
from service.gates.registry import default_gates
from service.review.revisions import keep_revision
from service.schemas import default_schemas
from service.settings import Settings, get_settings


def local_engine(settings: Settings) -> Engine:
    return new_engine(settings, load_policy_set(settings.policy_dir))


def local_judge(settings: Settings, gates: GateRegistry | None = None) -> Judge:
    """A judge over this process's engine and the shipped gates (or `gates`)."""
    return Judge(local_engine(settings), default_schemas(), gates or default_gates())


def policy_judge(policy_dir: Path) -> Judge:
    """A judge of the policies in `policy_dir` on the embedded engine, whatever engine the
    settings choose (an OPA server serves the revision in force, not this one; the two
    engines give the same answers: tests/engine's parity test). For replay and reproduce;
    PolicyLoadError for a broken policy set."""
    settings = get_settings().model_copy(update={"policy_dir": policy_dir, "opa_url": None})
    return local_judge(settings)


def local_path(settings: Settings, gates: GateRegistry | None = None) -> LocalPath:
    """The decision path of local CLI mode: this process's engine, and the ledger under
    MLGATE_HOME both as the record of its decisions and as the source of sign-offs and
    history. Says so, loudly, when that ledger is new (see `fresh_home_notice`). The policy
    revision is on record in that ledger, with its files, before any decision is made under it
    (service/review/revisions.py); AuditWriteFailed if it cannot be."""
    fresh = _is_fresh(settings)
    judge = local_judge(settings, gates)  # first: a broken policy or install leaves nothing
    ledger = open_ledger(settings)
    try:
        keep_revision(ledger, judge.engine.policy_set)
    except BaseException:
        ledger.close()
        judge.engine.close()  # type: ignore[attr-defined]
        raise
    if fresh:
        print(fresh_home_notice(settings), file=sys.stderr)
    return LocalPath(judge, ledger, EvidenceContext(ledger, settings, local_store=True))


def _is_fresh(settings: Settings) -> bool:
    """No default signing key yet and an embedded ledger that does not exist yet."""
    url = settings.resolved_ledger_url
    if not url.startswith("sqlite:///") or settings.signing_key is not None:
        return False
    ledger_file = settings.home / "ledger.sqlite3" if not settings.ledger_url else None
    key = settings.resolved_signing_key
    return not key.exists() and (ledger_file is None or not ledger_file.exists())


def fresh_home_notice(settings: Settings) -> str:
    """What a person running local mode on a fresh machine (a CI runner) must know."""
    rule = "=" * 78
    return "\n".join(
        [
            rule,
            "mlgate LOCAL MODE: this machine had no mlgate state, so it just created",
            f"  a signing key   {settings.resolved_signing_key}",
            f"  an empty ledger {settings.resolved_ledger_url.removeprefix('sqlite:///')}",
            "They exist only here: on a CI runner they vanish with the machine, and the",
            "signed record of this decision with them. Local mode trusts whoever runs it.",
            "A gate a pipeline cannot talk its way past is the service:",
            "  mlgate decide --url https://mlgate.example/ (MLGATE_URL, MLGATE_TOKEN)",
            rule,
        ]
    )
