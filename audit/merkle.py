"""The RFC 6962 Merkle tree over the audit events, so one checkpoint commits to the whole log.

A leaf is one event's chain hash (32 bytes); leaf hash ``SHA-256(0x00 || leaf)``, interior
node ``SHA-256(0x01 || left || right)``, the tree split at the largest power of two below its
size (RFC 6962 section 2.1). Free of Django: the offline verifier imports it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

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
