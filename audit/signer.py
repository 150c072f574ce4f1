"""A signer process that holds the log's key where the application user cannot read it.

    python -m audit.signer --key /etc/fundflow-signer/audit-signing.pem \\
        --socket /run/fundflow-signer/signer.sock --state /var/lib/fundflow-signer/state \\
        --origin fundflow.example/audit

Run it as its own system user (README, "The signing key out of the operator's reach"); the
application connects with ``AUDIT_SIGNER=socket:/run/fundflow-signer/signer.sock``. The
signer is more than a key holder: like a Certificate Transparency witness it keeps the last
checkpoint it signed and signs a new one only when

- its text is a checkpoint of this log (``--origin``), dated within ``--clock-tolerance``
  of the signer's own clock — nothing back-dated, nothing post-dated;
- it is not smaller than the last one, and a consistency proof (RFC 6962) shows the new
  tree extends the last one — an insider who rewrote the database cannot get the rewritten
  history signed, even through the application.

The only other text it signs is a staff directory (``<origin>/staff-directory``), which
states no log state. Free of Django; one JSON object per line each way.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import socket
import socketserver
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from audit.note import SIGNATURE_PREFIX, CheckpointBody, NoteError, key_id, raw_public_key

#: Largest request accepted (a checkpoint and a proof of ~40 hashes fit many times over).
MAX_REQUEST = 64 * 1024


class SignerRefused(RuntimeError):
    """The signer would not sign; the message says why."""


@dataclass(frozen=True)
class SignedState:
    """The last checkpoint the signer signed, with its signed note (what it vouches for)."""

    size: int
    root: bytes
    time: str
    note: str = ""

    def encode(self) -> str:
        return json.dumps(
            {
                "size": self.size,
                "root": base64.b64encode(self.root).decode(),
                "time": self.time,
                "note": self.note,
            }
        )

    @classmethod
    def decode(cls, text: str) -> SignedState:
        data = json.loads(text)
        return cls(int(data["size"]), base64.b64decode(data["root"]), data["time"], data["note"])


class Witness:
    """The signer's rules, apart from the socket (tested directly)."""

    def __init__(
        self,
        key: Ed25519PrivateKey,
        origin: str,
        state_path: Path,
        clock_tolerance: float = 120.0,
    ) -> None:
        self.key = key
        self.origin = origin
        self.state_path = state_path
        self.clock_tolerance = clock_tolerance
        self.lock = threading.Lock()

    def state(self) -> SignedState | None:
        try:
            return SignedState.decode(self.state_path.read_text())
        except FileNotFoundError:
            return None

    def _save(self, state: SignedState) -> None:
        temporary = self.state_path.with_suffix(".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(state.encode())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.state_path)

    def sign(self, text: str, proof: Sequence[bytes] = ()) -> bytes:
        """Ed25519 signature over ``text``, if the rules allow it; else SignerRefused."""
        first = text.split("\n", 1)[0]
        if first == f"{self.origin}/staff-directory":
            if not text.startswith(f"{first}\nperiod "):
                # Never a text shaped like a checkpoint under another first line.
                raise SignerRefused("a staff directory's second line is its period")
            return self.key.sign(text.encode())
        try:
            body = CheckpointBody.parse(text)
        except NoteError as exc:
            raise SignerRefused(f"not a checkpoint of this log: {exc}") from exc
        if body.origin != self.origin:
            raise SignerRefused(f"a checkpoint of {body.origin}, not of {self.origin}")
        drift = abs((datetime.fromisoformat(body.time) - datetime.now(UTC)).total_seconds())
        if drift > self.clock_tolerance:
            raise SignerRefused(
                f"the checkpoint is dated {body.time}, {drift:.0f} s away from the signer's "
                "clock: nothing back-dated or post-dated is signed"
            )
        with self.lock:
            last = self.state()
            if last is not None:
                self._check_extends(last, body, proof)
            signature = self.key.sign(text.encode())
            note = (
                f"{text}\n{SIGNATURE_PREFIX}{self.origin} "
                + base64.b64encode(key_id(self.origin, self.key.public_key()) + signature).decode()
                + "\n"
            )
            self._save(SignedState(body.tree_size, body.root_hash, body.time, note))
        return signature

    @staticmethod
    def _check_extends(last: SignedState, body: CheckpointBody, proof: Sequence[bytes]) -> None:
        from audit.merkle import ProofError, verify_consistency

        if body.tree_size < last.size:
            raise SignerRefused(
                f"the log had {last.size} entries at the last checkpoint signed; this one has "
                f"{body.tree_size}: entries were removed"
            )
        if body.time < last.time:
            raise SignerRefused(f"dated before the last checkpoint signed ({last.time})")
        if body.tree_size == last.size:
            if body.root_hash != last.root:
                raise SignerRefused(
                    f"a different root for the same size {last.size}: the log was rewritten"
                )
            return
        try:
            verify_consistency(last.size, body.tree_size, last.root, body.root_hash, list(proof))
        except ProofError as exc:
            raise SignerRefused(
                f"the log at {body.tree_size} does not extend the last checkpoint signed "
                f"({last.size}): {exc}"
            ) from exc

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        op = request.get("op")
        if op == "public_key":
            return {"public_key": base64.b64encode(raw_public_key(self.key.public_key())).decode()}
        if op == "state":
            last = self.state()
            if last is None:
                return {"size": None}
            return {
                "size": last.size,
                "root": base64.b64encode(last.root).decode(),
                "note": last.note,
            }
        if op == "sign":
            try:
                proof = [base64.b64decode(p, validate=True) for p in request.get("proof", [])]
                signature = self.sign(str(request["text"]), proof)
            except SignerRefused as exc:
                return {"error": str(exc)}
            except (KeyError, ValueError) as exc:
                return {"error": f"malformed request: {exc}"}
            return {"signature": base64.b64encode(signature).decode()}
        return {"error": f"unknown operation {op!r}"}


def _request(path: str, message: dict[str, Any], timeout: float = 10.0) -> dict[str, Any]:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(timeout)
        try:
            conn.connect(path)
        except OSError as exc:
            raise SignerRefused(f"cannot reach the signer at {path}: {exc.strerror}") from exc
        conn.sendall(json.dumps(message).encode() + b"\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
    try:
        answer = json.loads(data)
    except json.JSONDecodeError as exc:
        raise SignerRefused(f"the signer at {path} answered no JSON") from exc
    if "error" in answer:
        raise SignerRefused(f"the signer refused: {answer['error']}")
    return dict(answer)


class SocketSigner:
    """The application's side: asks the signer process, proving each checkpoint extends."""

    def __init__(self, path: str) -> None:
        self.path = path

    def public_key(self) -> Ed25519PublicKey:
        answer = _request(self.path, {"op": "public_key"})
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(answer["public_key"]))

    def last_signed_note(self) -> str:
        """The signed note of the last checkpoint the signer signed ("" when none yet)."""
        return str(_request(self.path, {"op": "state"}).get("note") or "")

    def sign(self, message: bytes) -> bytes:
        text = message.decode()
        proof: list[bytes] = []
        if not text.split("\n", 1)[0].endswith("/staff-directory"):
            state = _request(self.path, {"op": "state"})
            size = int(CheckpointBody.parse(text).tree_size)
            if state.get("size") is not None and 0 < state["size"] < size:
                from audit.proofs import consistency_proof_between_sizes

                proof = consistency_proof_between_sizes(int(state["size"]), size)
        answer = _request(
            self.path,
            {"op": "sign", "text": text, "proof": [base64.b64encode(p).decode() for p in proof]},
        )
        return base64.b64decode(answer["signature"])


def serve(witness: Witness, path: Path) -> socketserver.UnixStreamServer:
    """A threaded Unix-socket server for ``witness`` (call ``serve_forever`` on it)."""

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            line = self.rfile.readline(MAX_REQUEST)
            try:
                request = json.loads(line)
                answer = witness.handle(request if isinstance(request, dict) else {})
            except json.JSONDecodeError:
                answer = {"error": "malformed request: not JSON"}
            self.wfile.write(json.dumps(answer).encode() + b"\n")

    path.unlink(missing_ok=True)
    server = socketserver.ThreadingUnixStreamServer(str(path), Handler)
    # The application's user reaches it through the socket's group (README); nobody else.
    os.chmod(path, 0o660)  # nosec B103
    return server


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m audit.signer", description=__doc__)
    parser.add_argument("--key", type=Path, required=True, help="Ed25519 private key (PEM)")
    parser.add_argument("--socket", type=Path, required=True)
    parser.add_argument("--state", type=Path, required=True, help="the last checkpoint signed")
    parser.add_argument("--origin", required=True, help="the log's name (AUDIT_LOG_ORIGIN)")
    parser.add_argument("--clock-tolerance", type=float, default=120.0)
    args = parser.parse_args(argv)
    key = load_pem_private_key(args.key.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        print(f"{args.key} does not hold an Ed25519 private key", file=sys.stderr)
        return 2
    witness = Witness(key, args.origin, args.state, args.clock_tolerance)
    server = serve(witness, args.socket)
    print(f"signing checkpoints of {args.origin} on {args.socket}", file=sys.stderr)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        time.sleep(0)
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
