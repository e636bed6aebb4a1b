"""The id of every ledger record: a decision's, a sign-off's, a snapshot's, an alias move's.

A UUID version 7 (RFC 9562, section 5.7: https://www.rfc-editor.org/rfc/rfc9562#section-5.7):
48 bits of Unix time in milliseconds, then random bits (a counter orders ids made in the same
millisecond). Ids made later sort later, so the ledger's unique index on record ids takes each
new id at its right-hand end instead of at a random leaf: a million-record ledger appends
without dirtying a random index page per record. The random bits keep two replicas' ids
apart; ids are not secrets (every read needs a token).
"""

from __future__ import annotations

from uuid_utils.compat import uuid7


def new_record_id() -> str:
    """A new record id, `01a238f9-502e-72a6-bae4-48091ad13c92` in form: 36 characters,
    lower-case hex, version 7."""
    return str(uuid7())
