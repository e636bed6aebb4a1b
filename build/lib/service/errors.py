"""The one exception family of mlgate; HTTP statuses and exit codes are mapped from `code`."""

from __future__ import annotations

import sys


class MlgateError(Exception):
    """Base of every error mlgate reports to a user; `code` is stable, `message` is for people."""

    code = "mlgate_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(MlgateError):
    """The request or command line is not well formed."""

    code = "usage_error"


class InvalidField(UsageError):
    """A well-formed request with one field whose value is not acceptable."""

    code = "invalid_request"

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field


class EvidenceUnreadable(MlgateError):
    """An evidence file is missing where required, or cannot be read or parsed."""

    code = "evidence_unreadable"


class PolicyLoadError(MlgateError):
    """A policy or data file does not parse or compile."""

    code = "policy_load_error"


class PolicyEngineUnavailable(MlgateError):
    """The OPA engine is not installed, not reachable, or failed while evaluating."""

    code = "policy_engine_unavailable"


class AuditWriteFailed(MlgateError):
    """The audit record of a decision could not be durably written; no answer may leave."""

    code = "audit_write_failed"


class AuditKeyMissing(AuditWriteFailed):
    """The signing key is missing or unreadable."""

    code = "audit_key_missing"


class LedgerUnreadable(MlgateError):
    """The ledger database cannot be opened or read (not a write: no decision is at stake)."""

    code = "ledger_unreadable"


class LedgerTampered(LedgerUnreadable):
    """A record's indexed columns differ from its signed envelope: the database was edited."""

    code = "ledger_tampered"


class NotFound(MlgateError):
    """A decision, gate or record that was asked for does not exist."""

    code = "not_found"


def unconvertible(exc: ValueError) -> str:
    """Why a parser could not convert a value its syntax allows, in words a user can act on."""
    if "integer string conversion" in str(exc):  # Python's guard against huge integers
        return f"a number has more than {sys.get_int_max_str_digits()} digits"
    return f"a value cannot be converted: {exc}"
