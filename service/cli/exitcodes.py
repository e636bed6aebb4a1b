"""Exit codes of `mlgate`: one per outcome of `mlgate decide`, and those of errors that are not a
decision. Everything else a user did wrong is EXIT_USAGE."""

from __future__ import annotations

# Exit codes of `mlgate decide`, one per outcome (2 is kept for usage and input errors).
EXIT_CODES: dict[str, int] = {"allow": 0, "deny": 1, "rollback": 3, "hold": 4}
EXIT_USAGE = 2
# Errors that are not a decision, by their code (service/errors.py).
ERROR_EXIT_CODES = {
    "audit_write_failed": 5,
    "audit_key_missing": 5,
    "ledger_unreadable": 5,
    "ledger_tampered": 5,  # a record edited in the database: the ledger cannot be read
    "policy_engine_unavailable": 6,
    "service_unreachable": 7,  # --url: nothing answered there (down, wrong URL, network)
    "not_authorized": 8,  # --url: the token is missing, wrong, or lacks the role (401, 403)
}
# A deny the service recorded because the policy engine could not decide (its reason code):
# the exit code is the engine's, so a pipeline can tell "ask again later" from a policy's deny.
ENGINE_DENIAL_CODE = "POLICY_ENGINE_ERROR"
EXIT_ENGINE_UNAVAILABLE = ERROR_EXIT_CODES["policy_engine_unavailable"]
# `mlgate decide --fail-on-warn`: an allow that carries warnings.
EXIT_WARNED = 1
# The reader of mlgate's output closed the pipe (`mlgate audit export | head -1`): 128 + SIGPIPE
# (13), the status a shell reports for a writer its reader left.
EXIT_BROKEN_PIPE = 141
