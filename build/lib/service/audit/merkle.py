"""RFC 6962 Merkle tree hashes over ledger records, computed incrementally from a frontier."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    digest = hashlib.sha256(b"\x00")
    digest.update(data)
    return digest.digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) exactly as RFC 6962 section 2.1 defines it, over the leaves' data."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaf_hash(leaves[0])
    split = 1 << ((len(leaves) - 1).bit_length() - 1)  # largest power of two < n
    return node_hash(merkle_root(leaves[:split]), merkle_root(leaves[split:]))


class MerkleFrontier:
    """The roots of the perfect subtrees a tree of `size` leaves decomposes into.

    Appending is amortised O(1) and the root is O(log n), so a checkpoint every N records
    costs N leaf hashes rather than a pass over the whole ledger.
    """

    def __init__(self, size: int = 0, roots: Sequence[bytes] = ()) -> None:
        if len(roots) != size.bit_count():
            raise ValueError(f"a frontier of {size} leaves has {size.bit_count()} roots")
        self.size = size
        self._roots = list(roots)  # largest subtree first

    def append(self, leaf: bytes) -> None:
        """Add one leaf hash (see `leaf_hash`)."""
        node = leaf
        self.size += 1
        # Each trailing zero bit of the new size is a pair of equal subtrees to merge.
        size = self.size
        while size & 1 == 0:
            node = node_hash(self._roots.pop(), node)
            size >>= 1
        self._roots.append(node)

    def copy(self) -> MerkleFrontier:
        return MerkleFrontier(self.size, self._roots)

    def root(self) -> bytes:
        if not self._roots:
            return EMPTY_ROOT
        node = self._roots[-1]
        for left in reversed(self._roots[:-1]):
            node = node_hash(left, node)
        return node

    def to_bytes(self) -> bytes:
        return b"".join(self._roots)

    @classmethod
    def from_bytes(cls, size: int, data: bytes) -> MerkleFrontier:
        roots = [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]
        return cls(size, roots)
