"""Merkle proofs (RFC 6962 / RFC 9162): known vectors, and every size up to 70 exhaustively.

The vectors are transparency-dev/merkle's probes over the RFC 6962 reference tree of eight
leaves, gathered in tests/audit/data (their source is named in the file).
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from audit.merkle import (
    EMPTY_ROOT,
    Frontier,
    LeafHashes,
    ProofError,
    consistency_proof,
    consistency_ranges,
    inclusion_proof,
    inclusion_ranges,
    leaf_hash,
    root_of,
    roots_of_ranges,
    subtree_root,
    verify_consistency,
    verify_inclusion,
)

VECTORS = json.loads((Path(__file__).parent / "data" / "rfc6962_proof_vectors.json").read_text())
#: The RFC 6962 reference leaves (certificate-transparency's test data).
REFERENCE_LEAVES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                    "606162636465666768696a6b6c6d6e6f"]  # fmt: skip
REFERENCE_ROOT_8 = "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
SIZE_LIMIT = 70


def b64(value: str | None) -> bytes:
    return base64.b64decode(value or "")


def proof_of(probe: dict[str, Any]) -> list[bytes]:
    return [b64(p) for p in probe["proof"] or []]


def raw_leaf(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def leaves(count: int, seed: int = 0) -> LeafHashes:
    rng = random.Random(seed)
    out = LeafHashes()
    for _ in range(count):
        out.append(leaf_hash(rng.randbytes(32).hex()))
    return out


def flipped(value: bytes, rng: random.Random) -> bytes:
    at = rng.randrange(len(value))
    return value[:at] + bytes([value[at] ^ (1 << rng.randrange(8))]) + value[at + 1 :]


def test_reference_tree_of_eight_leaves_has_the_rfc_6962_root():
    hashes = [raw_leaf(bytes.fromhex(x)) for x in REFERENCE_LEAVES]
    assert subtree_root(hashes, 0, 8).hex() == REFERENCE_ROOT_8
    assert subtree_root(hashes, 0, 0) == EMPTY_ROOT


@pytest.mark.parametrize("probe", VECTORS["inclusion"], ids=lambda p: p["file"][9:])
def test_inclusion_verification_agrees_with_the_reference_probes(probe):
    leaf, root = b64(probe["leafHash"]), b64(probe["root"])
    args = (leaf, probe["leafIdx"], probe["treeSize"], proof_of(probe), root)
    if probe["wantErr"]:
        with pytest.raises(ProofError):
            verify_inclusion(*args)
    else:
        verify_inclusion(*args)


@pytest.mark.parametrize("probe", VECTORS["consistency"], ids=lambda p: p["file"][9:])
def test_consistency_verification_agrees_with_the_reference_probes(probe):
    args = (probe["size1"], probe["size2"], b64(probe["root1"]), b64(probe["root2"]))
    if probe["wantErr"]:
        with pytest.raises(ProofError):
            verify_consistency(*args, proof_of(probe))
    else:
        verify_consistency(*args, proof_of(probe))


def test_proofs_built_over_the_reference_tree_match_the_reference_probes():
    hashes = [raw_leaf(bytes.fromhex(x)) for x in REFERENCE_LEAVES]
    happy = [p for p in VECTORS["inclusion"] if p["desc"] == "happy path"]
    assert happy
    for probe in happy:
        size = probe["treeSize"]
        assert inclusion_proof(hashes, probe["leafIdx"], size) == proof_of(probe), probe["file"]
    happy = [p for p in VECTORS["consistency"] if p["desc"] == "happy path"]
    assert happy
    for probe in happy:
        built = consistency_proof(hashes, probe["size1"], probe["size2"])
        assert built == proof_of(probe), probe["file"]


def test_every_inclusion_proof_up_to_70_leaves_verifies_and_any_change_fails():
    rng = random.Random(6962)
    hashes = leaves(2 * SIZE_LIMIT)
    roots = [subtree_root(hashes, 0, n) for n in range(2 * SIZE_LIMIT + 1)]
    for size in range(1, SIZE_LIMIT + 1):
        root = roots[size]
        assert root == root_of_leaves(hashes, size)
        for index in range(size):
            proof = inclusion_proof(hashes, index, size)
            assert len(proof) <= (size - 1).bit_length()
            verify_inclusion(hashes[index], index, size, proof, root)
            if proof:
                at = rng.randrange(len(proof))
                bad = [*proof[:at], flipped(proof[at], rng), *proof[at + 1 :]]
                with pytest.raises(ProofError):
                    verify_inclusion(hashes[index], index, size, bad, root)
                with pytest.raises(ProofError):
                    verify_inclusion(hashes[index], index, size, proof[:-1], root)
            with pytest.raises(ProofError):
                verify_inclusion(flipped(hashes[index], rng), index, size, proof, root)
            with pytest.raises(ProofError):
                verify_inclusion(hashes[index], index, size, proof, flipped(root, rng))
            with pytest.raises(ProofError):
                verify_inclusion(hashes[index], index, size, [*proof, root], root)
            for wrong_index in {index - 1, index + 1, index ^ 1} - {index}:
                if wrong_index >= 0:
                    with pytest.raises(ProofError):
                        verify_inclusion(hashes[index], wrong_index, size, proof, root)
            for wrong_size in {size - 1, size + 1, size * 2} - {size}:
                with pytest.raises(ProofError):  # a signed note binds each size to its root
                    verify_inclusion(hashes[index], index, wrong_size, proof, roots[wrong_size])


def root_of_leaves(hashes: LeafHashes, size: int) -> bytes:
    frontier = Frontier()
    for i in range(size):
        frontier.append(hashes[i])
    return frontier.root()


def test_every_consistency_proof_up_to_70_leaves_verifies_and_any_change_fails():
    rng = random.Random(9162)
    hashes = leaves(SIZE_LIMIT, seed=1)
    roots = [subtree_root(hashes, 0, n) for n in range(SIZE_LIMIT + 1)]
    for new in range(1, SIZE_LIMIT + 1):
        for old in range(1, new + 1):
            proof = consistency_proof(hashes, old, new)
            verify_consistency(old, new, roots[old], roots[new], proof)
            if old == new:
                assert proof == []
                continue
            at = rng.randrange(len(proof))
            bad = [*proof[:at], flipped(proof[at], rng), *proof[at + 1 :]]
            with pytest.raises(ProofError):
                verify_consistency(old, new, roots[old], roots[new], bad)
            with pytest.raises(ProofError):
                verify_consistency(old, new, flipped(roots[old], rng), roots[new], proof)
            with pytest.raises(ProofError):
                verify_consistency(old, new, roots[old], flipped(roots[new], rng), proof)
            with pytest.raises(ProofError):
                verify_consistency(old, new, roots[old], roots[new], proof[:-1])
            with pytest.raises(ProofError):
                verify_consistency(old, new, roots[old], roots[new], [*proof, roots[new]])
            if new < SIZE_LIMIT:
                with pytest.raises(ProofError):
                    verify_consistency(old, new + 1, roots[old], roots[new + 1], proof)
            if old > 1:
                with pytest.raises(ProofError):
                    verify_consistency(old - 1, new, roots[old - 1], roots[new], proof)


def test_a_tree_of_other_leaves_is_not_consistent_with_the_first():
    first, other = leaves(20, seed=2), leaves(40, seed=3)
    proof = consistency_proof(other, 13, 40)
    with pytest.raises(ProofError, match="13"):
        verify_consistency(13, 40, subtree_root(first, 0, 13), subtree_root(other, 0, 40), proof)


@given(st.integers(1, 5000), st.data())
def test_streamed_proofs_equal_proofs_over_the_buffer(size, data):
    hashes = leaves(size, seed=size)
    index = data.draw(st.integers(0, size - 1))
    old = data.draw(st.integers(1, size))
    assert roots_of_ranges(iter(hashes), inclusion_ranges(index, size)) == inclusion_proof(
        hashes, index, size
    )
    assert roots_of_ranges(iter(hashes), consistency_ranges(old, size)) == consistency_proof(
        list(hashes), old, size
    )


def test_the_buffer_matches_the_frontier_root_over_event_hashes():
    digests = [hashlib.sha256(str(n).encode()).hexdigest() for n in range(1000)]
    buffer = LeafHashes()
    for digest in digests:
        buffer.append(leaf_hash(digest))
    assert len(buffer) == 1000
    assert subtree_root(buffer, 0, 1000) == root_of(digests)
    assert buffer[-1] == leaf_hash(digests[-1])
    assert list(buffer[998:]) == [leaf_hash(d) for d in digests[998:]]


def test_proofs_for_impossible_positions_are_refused():
    with pytest.raises(ValueError, match="not in a tree"):
        inclusion_ranges(5, 5)
    with pytest.raises(ValueError, match="no consistency proof"):
        consistency_ranges(6, 5)
    with pytest.raises(ValueError, match="no consistency proof"):
        consistency_ranges(0, 5)
