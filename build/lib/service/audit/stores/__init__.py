"""Ledger databases: SQLite for one machine, PostgreSQL for many; the same chain rules in both."""
