"""RFC 6962 tree hashes: the Certificate Transparency test vectors, and the frontier agreeing."""

from __future__ import annotations

import pytest

from service.audit.merkle import EMPTY_ROOT, MerkleFrontier, leaf_hash, merkle_root

# The leaves and roots of certificate-transparency's merkle tree tests (RFC 6962 trees).
CT_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


@pytest.mark.parametrize("size", range(1, 9))
def test_root_matches_the_certificate_transparency_vectors(size: int) -> None:
    assert merkle_root(CT_LEAVES[:size]).hex() == CT_ROOTS[size - 1]


def test_the_empty_tree_hashes_the_empty_string() -> None:
    assert merkle_root([]) == EMPTY_ROOT
    assert MerkleFrontier().root() == EMPTY_ROOT
    assert EMPTY_ROOT.hex().startswith("e3b0c442")


def test_the_frontier_gives_the_same_root_as_the_full_tree_at_every_size() -> None:
    leaves = [f"record {i}".encode() for i in range(130)]
    frontier = MerkleFrontier()
    for size, leaf in enumerate(leaves, start=1):
        frontier.append(leaf_hash(leaf))
        assert frontier.root() == merkle_root(leaves[:size]), size


def test_a_frontier_survives_storage_and_keeps_growing() -> None:
    leaves = [bytes([i]) * 3 for i in range(77)]
    frontier = MerkleFrontier()
    for leaf in leaves[:45]:
        frontier.append(leaf_hash(leaf))
    restored = MerkleFrontier.from_bytes(45, frontier.to_bytes())
    for leaf in leaves[45:]:
        restored.append(leaf_hash(leaf))
    assert restored.root() == merkle_root(leaves)


def test_a_frontier_with_the_wrong_number_of_roots_is_refused() -> None:
    with pytest.raises(ValueError, match="a frontier of 3 leaves has 2 roots"):
        MerkleFrontier.from_bytes(3, b"\x00" * 32)
