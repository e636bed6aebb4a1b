"""The sign-off book writes into real ledgers: SQLite, and PostgreSQL (tests/audit/conftest.py)."""

from tests.audit.conftest import key_files, ledger, stores

__all__ = ["key_files", "ledger", "stores"]
