"""The read queries both stores share, written once with `?` placeholders."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from service.audit.stores.base import (
    RECORD_COLUMNS,
    RecordFilter,
    RecordRow,
    find_clauses,
    row_from,
    stored_bytes,
)

COLUMNS = ", ".join(RECORD_COLUMNS)


class SharedReads:
    """Mixed into a store, whose `_read` runs a query (translating `?` if its driver must)."""

    _record_inputs_seen = False

    def _read(self, sql: str, params: tuple[object, ...] = ()) -> list[Any]:
        raise NotImplementedError

    def last_seq(self) -> int:
        return int(self._read("SELECT coalesce(max(seq), 0) FROM records")[0][0])

    def record_by_seq(self, seq: int) -> RecordRow | None:
        rows = self._read(f"SELECT {COLUMNS} FROM records WHERE seq = ?", (seq,))
        return row_from(rows[0]) if rows else None

    def record_by_decision(self, decision_id: str) -> RecordRow | None:
        rows = self._read(f"SELECT {COLUMNS} FROM records WHERE decision_id = ?", (decision_id,))
        return row_from(rows[0]) if rows else None

    def find(self, query: RecordFilter) -> list[RecordRow]:
        clauses, params = find_clauses(query)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        sql = f"SELECT {COLUMNS} FROM records {where} ORDER BY seq DESC LIMIT ?"
        return [row_from(r) for r in self._read(sql, (*params, query.limit))]

    def envelope_page(self, after_seq: int, limit: int) -> list[tuple[int, bytes]]:
        rows = self._read(
            "SELECT seq, envelope FROM records WHERE seq > ? ORDER BY seq LIMIT ?",
            (after_seq, limit),
        )
        return [(int(seq), stored_bytes(envelope)) for seq, envelope in rows]

    def row_page(self, after_seq: int, limit: int) -> list[RecordRow]:
        rows = self._read(
            f"SELECT {COLUMNS} FROM records WHERE seq > ? ORDER BY seq LIMIT ?", (after_seq, limit)
        )
        return [row_from(r) for r in rows]

    def contents(self, digests: Sequence[str]) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        for start in range(0, len(digests), 500):  # below every driver's parameter limit
            chunk = tuple(digests[start : start + 500])
            if chunk:
                marks = ", ".join("?" * len(chunk))
                sql = f"SELECT digest, document FROM inputs WHERE digest IN ({marks})"
                found.update((str(d), stored_bytes(doc)) for d, doc in self._read(sql, chunk))
        return found

    def content(self, digest: str) -> bytes | None:
        rows = self._read("SELECT document FROM inputs WHERE digest = ?", (digest,))
        return stored_bytes(rows[0][0]) if rows else None

    def record_input(self, seq: int, digest: str) -> bytes | None:
        if self._has_record_inputs():
            rows = self._read("SELECT document FROM record_inputs WHERE seq = ?", (seq,))
            if rows:
                return stored_bytes(rows[0][0])
        return self.content(digest)  # a ledger written before documents were kept by seq

    def record_inputs(self, first: int, last: int) -> dict[int, bytes]:
        if not self._has_record_inputs():
            return {}
        sql = "SELECT seq, document FROM record_inputs WHERE seq BETWEEN ? AND ?"
        return {int(seq): stored_bytes(doc) for seq, doc in self._read(sql, (first, last))}

    def _has_record_inputs(self) -> bool:
        """Whether the ledger has its table of input documents by seq: a ledger written before
        it, opened for reading only, has not. Once seen it is not looked up again (a ledger's
        tables are never dropped)."""
        if not self._record_inputs_seen:
            self._record_inputs_seen = self._table_exists("record_inputs")
        return self._record_inputs_seen

    def _table_exists(self, name: str) -> bool:
        raise NotImplementedError

    def seq_after(self, after_seq: int, n: int) -> int | None:
        """The seq of the `n`th record after `after_seq` (n >= 1), or None if there are fewer."""
        rows = self._read(
            "SELECT seq FROM records WHERE seq > ? ORDER BY seq LIMIT 1 OFFSET ?",
            (after_seq, n - 1),
        )
        return int(rows[0][0]) if rows else None

    def checkpoint_frontiers(self, size: int) -> list[bytes]:
        """The Merkle frontiers stored with checkpoints of `size` records, newest first."""
        rows = self._read(
            "SELECT frontier FROM checkpoints WHERE size = ? ORDER BY id DESC", (size,)
        )
        return [stored_bytes(r[0]) for r in rows]

    def checkpoint_envelopes(self) -> list[bytes]:
        rows = self._read("SELECT envelope FROM checkpoints ORDER BY size, id")
        return [stored_bytes(r[0]) for r in rows]
