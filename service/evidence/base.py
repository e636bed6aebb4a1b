"""Where each part of an input document came from: its provenance, kept in the document and so
in the audit record.

Who may assert what (DESIGN.md, the trust boundary): approvals and waivers come from the
sign-off records in the ledger, history from the ledger's decisions; over HTTP the caller may
assert neither. In local CLI mode the operator holds the signing key and is trusted, so an
evidence file may carry them too, marked as such.
"""

from __future__ import annotations

REQUEST = "request"
EVIDENCE_FILE = "evidence file"
TRUSTED_FILE = "evidence file (local mode: trusted operator)"
SIGNOFF_RECORDS = "ledger: sign-off records"
LEDGER_DECISIONS = "ledger: decisions"
SNAPSHOT_RECORDS = "ledger: metric snapshots"
ALIAS_MOVES = "ledger: alias moves"
TIER_CHANGES = "ledger: tier changes"
CANARY_STATISTICS = "computed from the metric snapshots"

# The parts only mlgate's own records may supply (over HTTP), and where they come from instead.
RECORDED_ONLY = {
    "approvals": "the sign-off records (POST /v1/approvals, mlgate approve)",
    "waivers": "the sign-off records (POST /v1/waivers, mlgate waive)",
    "withdrawn_waivers": "the sign-off records (DELETE /v1/waivers/{id}, mlgate waive --withdraw)",
    "history": "the ledger's earlier decisions on this model version and artifact",
    "recorded_risk_tier": "the ledger's earlier decisions on this model or its artifact, and "
    "its tier changes (POST /v1/tiers, mlgate tier set)",
    "requesters": "the ledger's earlier decisions on this model version",
    "alias_of_record": "the ledger's alias moves",
    "alias_unrecorded": "the registry's alias and the ledger's alias moves",
    "deployment": "the ledger's alias moves",
    "snapshots": "the snapshot records (POST /v1/snapshots, mlgate snapshot add)",
    "comparisons": "the snapshot records, by the canary statistics",
    "monitoring_history": "the ledger's earlier monitoring decisions on this deployment",
    "candidates": "the ledger's alias moves and the registry",
    "trigger": "the request's trigger (a reason, a monitoring decision of record)",
}


def joined(*sources: str) -> str:
    """One provenance for a part several sources contributed to, in precedence order."""
    return " + ".join(dict.fromkeys(s for s in sources if s))
