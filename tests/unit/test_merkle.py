"""audit.merkle: the RFC 6962 tree, one rule per test.

Roots for sizes 1-8 are the known answers over the RFC 6962 reference leaves (the test data
of certificate-transparency's merkle_tree_test.cc); the proof vectors themselves are checked
in tests/audit/test_merkle_proofs.py.
"""

from __future__ import annotations

import hashlib

import pytest

from audit.merkle import (
    EMPTY_ROOT,
    Frontier,
    LeafHashes,
    ProofError,
    consistency_ranges,
    inclusion_proof,
    inclusion_ranges,
    leaf_hash,
    node_hash,
    root_of,
    subtree_root,
    verify_consistency,
    verify_inclusion,
)

REFERENCE_LEAVES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                    "606162636465666768696a6b6c6d6e6f"]  # fmt: skip
REFERENCE_ROOTS = {
    1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    2: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    3: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    4: "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    5: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    6: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    7: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    8: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}
HASHES = [hashlib.sha256(b"\x00" + bytes.fromhex(leaf)).digest() for leaf in REFERENCE_LEAVES]
EVENT_HASHES = [hashlib.sha256(bytes([n])).hexdigest() for n in range(8)]


@pytest.mark.parametrize("size", sorted(REFERENCE_ROOTS))
def test_merkle_root_of_the_rfc_6962_reference_leaves_has_the_known_answer(size):
    assert subtree_root(HASHES, 0, size).hex() == REFERENCE_ROOTS[size]


@pytest.mark.parametrize("size", sorted(REFERENCE_ROOTS))
def test_the_frontier_reaches_the_same_root_as_the_whole_tree(size):
    frontier = Frontier()
    for leaf in HASHES[:size]:
        frontier.append(leaf)
    assert frontier.root().hex() == REFERENCE_ROOTS[size]


def test_the_empty_tree_has_the_hash_of_the_empty_string_as_root():
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert root_of([]) == EMPTY_ROOT


def test_a_leaf_is_hashed_with_a_zero_byte_before_the_event_hash():
    assert leaf_hash("ab" * 32) == hashlib.sha256(b"\x00" + b"\xab" * 32).digest()


def test_a_node_is_hashed_with_a_one_byte_before_its_children():
    assert node_hash(b"L", b"R") == hashlib.sha256(b"\x01LR").digest()


def test_a_tree_of_one_leaf_has_the_leaf_hash_as_root():
    assert root_of(EVENT_HASHES[:1]) == leaf_hash(EVENT_HASHES[0])


def test_a_tree_splits_at_the_largest_power_of_two_below_its_size():
    a, b, c = (leaf_hash(h) for h in EVENT_HASHES[:3])
    assert root_of(EVENT_HASHES[:3]) == node_hash(node_hash(a, b), c)


def test_the_root_depends_on_the_order_of_the_events():
    assert root_of(EVENT_HASHES[:2]) != root_of(EVENT_HASHES[1::-1])


def test_a_frontier_keeps_one_hash_per_set_bit_of_its_size():
    frontier = Frontier()
    for leaf in HASHES[:7]:
        frontier.append(leaf)
    assert frontier.size == 7 and len(frontier.hashes) == 3


def test_a_frontier_round_trips_through_its_text_form():
    frontier = Frontier()
    for leaf in HASHES[:5]:
        frontier.append(leaf)
    decoded = Frontier.decode(frontier.encode())
    assert (decoded.size, decoded.hashes, decoded.root()) == (5, frontier.hashes, frontier.root())


def test_a_frontier_whose_hash_count_does_not_match_its_size_is_refused():
    with pytest.raises(ValueError, match="one hash per set bit"):
        Frontier(3, [HASHES[0]])


def test_leaf_hashes_hold_only_32_byte_hashes():
    with pytest.raises(ValueError, match="32 bytes"):
        LeafHashes().append(b"short")
    with pytest.raises(ValueError, match="32 bytes"):
        LeafHashes(b"x" * 33)


def test_leaf_hashes_index_like_a_list():
    leaves = LeafHashes(b"".join(HASHES[:3]))
    assert (len(leaves), leaves[-1], list(leaves[1:])) == (3, HASHES[2], HASHES[1:3])


def test_the_inclusion_path_of_a_leaf_runs_from_its_sibling_to_the_other_half():
    assert inclusion_ranges(0, 8) == [(1, 2), (2, 4), (4, 8)]
    assert inclusion_ranges(6, 7) == [(4, 6), (0, 4)]


def test_a_leaf_outside_the_tree_has_no_inclusion_path():
    with pytest.raises(ValueError, match="not in a tree of 3"):
        inclusion_ranges(3, 3)


def test_a_consistency_proof_from_a_power_of_two_omits_the_old_root():
    assert consistency_ranges(4, 8) == [(4, 8)]
    assert consistency_ranges(3, 8) == [(2, 3), (3, 4), (0, 2), (4, 8)]


def test_a_consistency_proof_to_a_smaller_tree_is_refused():
    with pytest.raises(ValueError, match="no consistency proof from 5 to 4"):
        consistency_ranges(5, 4)


def test_an_inclusion_proof_for_another_index_is_refused():
    root = subtree_root(HASHES, 0, 8)
    proof = inclusion_proof(HASHES, 2, 8)
    verify_inclusion(HASHES[2], 2, 8, proof, root)
    with pytest.raises(ProofError, match="not in the tree"):
        verify_inclusion(HASHES[2], 3, 8, proof, root)


def test_an_inclusion_proof_with_a_hash_of_the_wrong_length_is_refused():
    root = subtree_root(HASHES, 0, 2)
    with pytest.raises(ProofError, match="32 bytes"):
        verify_inclusion(HASHES[0], 0, 2, [HASHES[1][:31]], root)


def test_an_inclusion_proof_longer_than_the_tree_needs_is_refused():
    root = subtree_root(HASHES, 0, 2)
    with pytest.raises(ProofError, match="longer"):
        verify_inclusion(HASHES[0], 0, 2, [HASHES[1], HASHES[2]], root)


def test_equal_trees_are_consistent_only_with_an_empty_proof_and_the_same_root():
    root = subtree_root(HASHES, 0, 4)
    verify_consistency(4, 4, root, root, [])
    with pytest.raises(ProofError, match="different roots"):
        verify_consistency(4, 4, root, subtree_root(HASHES, 1, 5), [])


def test_a_tree_that_shrank_is_never_consistent():
    with pytest.raises(ProofError, match="shrank"):
        verify_consistency(5, 4, EMPTY_ROOT, EMPTY_ROOT, [HASHES[0]])
