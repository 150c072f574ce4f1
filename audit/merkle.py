"""The RFC 6962 Merkle tree over the audit events, so one checkpoint commits to the whole log.

A leaf is one event's chain hash (32 bytes); leaf hash ``SHA-256(0x00 || leaf)``, interior
node ``SHA-256(0x01 || left || right)``, the tree split at the largest power of two below its
size (RFC 6962 section 2.1). Free of Django: the offline verifier imports it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import overload

#: The root of the empty tree: SHA-256 of the empty string.
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(event_hash_hex: str) -> bytes:
    return hashlib.sha256(b"\x00" + bytes.fromhex(event_hash_hex)).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


class Frontier:
    """The roots of the perfect subtrees along the tree's right edge (a compact range).

    Enough to append leaves and compute the root without the earlier leaves: a checkpoint
    keeps its frontier so the next one costs only the events since (log2(size) hashes kept).
    """

    def __init__(self, size: int = 0, hashes: Iterable[bytes] = ()) -> None:
        self.size = size
        self.hashes = list(hashes)  # largest subtree first
        if len(self.hashes) != bin(size).count("1"):
            raise ValueError("a frontier holds one hash per set bit of its size")

    def append(self, leaf: bytes) -> None:
        """Add a leaf hash, merging equal-sized subtrees as a binary counter carries."""
        node = leaf
        size = self.size
        while size & 1:
            node = node_hash(self.hashes.pop(), node)
            size >>= 1
        self.hashes.append(node)
        self.size += 1

    def root(self) -> bytes:
        if not self.hashes:
            return EMPTY_ROOT
        node = self.hashes[-1]
        for left in reversed(self.hashes[:-1]):
            node = node_hash(left, node)
        return node

    def encode(self) -> str:
        return " ".join([str(self.size), *(h.hex() for h in self.hashes)])

    @classmethod
    def decode(cls, text: str) -> Frontier:
        size, *hashes = text.split()
        return cls(int(size), (bytes.fromhex(h) for h in hashes))


def root_of(event_hashes_hex: Iterable[str]) -> bytes:
    """The Merkle root over events given by their chain hashes, in sequence order."""
    frontier = Frontier()
    for digest in event_hashes_hex:
        frontier.append(leaf_hash(digest))
    return frontier.root()


# ---------------------------------------------------------------------------------------
# Proofs (RFC 9162 sections 2.1.3 and 2.1.4): an auditor checks one event, or that a later
# checkpoint extends an earlier one, with log2(size) hashes instead of the whole log.

HASH_SIZE = 32
#: Perfect subtrees are hashed a block of this many leaves at a time, so computing a proof
#: over a million leaves never copies more than this many leaf hashes at once.
_BLOCK = 1 << 14


class ProofError(ValueError):
    """A proof that does not show what it claims (or is not a proof at all)."""


class LeafHashes(Sequence[bytes]):
    """Leaf hashes in one buffer, 32 bytes each: a million take 32 MB, not a list's ~100 MB."""

    def __init__(self, data: bytes | bytearray = b"") -> None:
        if len(data) % HASH_SIZE:
            raise ValueError("leaf hashes are 32 bytes each")
        self._data = bytearray(data)

    def append(self, leaf: bytes) -> None:
        if len(leaf) != HASH_SIZE:
            raise ValueError("a leaf hash is 32 bytes")
        self._data += leaf

    def __len__(self) -> int:
        return len(self._data) // HASH_SIZE

    @overload
    def __getitem__(self, index: int) -> bytes: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[bytes]: ...

    def __getitem__(self, index: int | slice) -> bytes | Sequence[bytes]:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step != 1:
                return [self[i] for i in range(start, stop, step)]
            return LeafHashes(self._data[start * HASH_SIZE : stop * HASH_SIZE])
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("leaf index out of range")
        return bytes(self._data[index * HASH_SIZE : (index + 1) * HASH_SIZE])

    def span(self, start: int, end: int) -> bytes:
        """The leaf hashes ``start..end-1`` concatenated."""
        return bytes(self._data[start * HASH_SIZE : end * HASH_SIZE])


def _split(size: int) -> int:
    """The largest power of two smaller than ``size`` (size >= 2): where RFC 6962 splits."""
    return 1 << ((size - 1).bit_length() - 1)


def _span(leaves: Sequence[bytes], start: int, end: int) -> bytes:
    if isinstance(leaves, LeafHashes):
        return leaves.span(start, end)
    return b"".join(leaves[i] for i in range(start, end))


def _reduce(level: bytes) -> bytes:
    """The root of a perfect tree whose leaf hashes are concatenated in ``level``."""
    sha256 = hashlib.sha256
    while len(level) > HASH_SIZE:
        level = b"".join(
            sha256(b"\x01" + level[i : i + 2 * HASH_SIZE]).digest()
            for i in range(0, len(level), 2 * HASH_SIZE)
        )
    return level


def _perfect_root(leaves: Sequence[bytes], start: int, count: int) -> bytes:
    if count <= _BLOCK:
        return _reduce(_span(leaves, start, start + count))
    blocks = b"".join(
        _reduce(_span(leaves, at, at + _BLOCK)) for at in range(start, start + count, _BLOCK)
    )
    return _reduce(blocks)


def subtree_root(leaves: Sequence[bytes], start: int, end: int) -> bytes:
    """MTH(D[start:end]): the RFC 6962 root over leaf hashes ``start..end-1``."""
    if end <= start:
        return EMPTY_ROOT
    right_edge: list[bytes] = []
    while end - start > 1 and (end - start) & (end - start - 1):  # not a power of two
        k = _split(end - start)
        right_edge.append(_perfect_root(leaves, start, k))
        start += k
    node = _perfect_root(leaves, start, end - start)
    for left in reversed(right_edge):
        node = node_hash(left, node)
    return node


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose roots form the inclusion proof of ``index`` (RFC 9162 PATH).

    In proof order, nearest the leaf first; disjoint, so they can be hashed in one pass.
    """
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size} leaves")
    ranges: list[tuple[int, int]] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    ranges.reverse()
    return ranges


def consistency_ranges(old_size: int, new_size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose roots form the consistency proof (RFC 9162 SUBPROOF)."""
    if not 0 < old_size <= new_size:
        raise ValueError(f"no consistency proof from {old_size} to {new_size} leaves")
    ranges: list[tuple[int, int]] = []
    start, end, m, complete = 0, new_size, old_size, True
    while m != end - start:
        k = _split(end - start)
        if m <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            m -= k
            start += k
            complete = False
    if not complete:
        ranges.append((start, end))
    ranges.reverse()
    return ranges


def inclusion_proof(leaves: Sequence[bytes], index: int, size: int) -> list[bytes]:
    """The audit path of leaf ``index`` in the tree of the first ``size`` leaf hashes."""
    return [subtree_root(leaves, a, b) for a, b in inclusion_ranges(index, size)]


def consistency_proof(leaves: Sequence[bytes], old_size: int, new_size: int) -> list[bytes]:
    """The proof that the tree of ``old_size`` leaf hashes is a prefix of ``new_size``'s."""
    if old_size == new_size:
        return []
    return [subtree_root(leaves, a, b) for a, b in consistency_ranges(old_size, new_size)]


def roots_of_ranges(leaves: Iterable[bytes], ranges: Sequence[tuple[int, int]]) -> list[bytes]:
    """The root of each (disjoint) range, from leaf hashes streamed once in order.

    Memory is a frontier per range (log2 of its size), so a proof over any number of events
    read from the database never holds the events' hashes.
    """
    order = sorted(range(len(ranges)), key=lambda i: ranges[i][0])
    roots = [EMPTY_ROOT] * len(ranges)
    pending = iter(order)
    current = next(pending, None)
    frontier = Frontier()
    for position, leaf in enumerate(leaves):
        while current is not None and position >= ranges[current][1]:
            roots[current] = frontier.root()
            frontier = Frontier()
            current = next(pending, None)
        if current is None:
            break
        if position >= ranges[current][0]:
            frontier.append(leaf)
    if current is not None:
        start, end = ranges[current]
        if frontier.size != end - start:
            raise ValueError(f"fewer leaves than the range {start}..{end - 1} needs")
        roots[current] = frontier.root()
        if next(pending, None) is not None:
            raise ValueError("fewer leaves than the proof needs")
    return roots


def _check_hashes(proof: Sequence[bytes]) -> None:
    if any(len(h) != HASH_SIZE for h in proof):
        raise ProofError("a proof's hashes are 32 bytes each")


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that the leaf hash ``leaf`` sits at ``index`` in the tree of ``size`` with
    ``root`` (RFC 9162 section 2.1.3.2); raise :class:`ProofError` if not."""
    _check_hashes([*proof, leaf])
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} cannot be in a tree of {size} leaves")
    fn, sn, node = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofError("the proof is longer than a tree of this size needs")
        if fn & 1 or fn == sn:
            node = node_hash(p, node)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            node = node_hash(node, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("the proof is shorter than a tree of this size needs")
    if node != root:
        raise ProofError(f"leaf {index} is not in the tree of {size} leaves with this root")


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree of ``old_size`` with ``old_root`` is a prefix of the tree of
    ``new_size`` with ``new_root`` (RFC 9162 section 2.1.4.2); raise :class:`ProofError`."""
    _check_hashes(proof)
    if old_size < 1:
        raise ProofError("a consistency proof starts from a tree of at least one leaf")
    if new_size < old_size:
        raise ProofError(f"the tree shrank from {old_size} to {new_size} leaves")
    if old_size == new_size:
        if proof:
            raise ProofError("trees of equal size need an empty proof")
        if old_root != new_root:
            raise ProofError(f"two different roots for the same {old_size} leaves")
        return
    if not proof:
        raise ProofError("an empty proof cannot show that a tree grew")
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # an exact power of two: the old root is a node
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("the proof is longer than these sizes need")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("the proof is shorter than these sizes need")
    if fr != old_root:
        raise ProofError(f"the proof does not lead to the root of the first {old_size} leaves")
    if sr != new_root:
        raise ProofError(
            f"the tree of {new_size} leaves does not extend the tree of {old_size} leaves"
        )
