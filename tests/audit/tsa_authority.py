"""A local RFC 3161 timestamp authority for the tests: ``openssl ts -reply`` behind HTTP.

No test reaches the network. The session fixture ``local_tsa`` makes a CA and a TSA
certificate (critical extendedKeyUsage timeStamping) with the ``openssl`` CLI in a temporary
folder and answers each POSTed ``application/timestamp-query`` on 127.0.0.1 by running
``openssl ts -reply``. Its tokens carry the TSA's and the CA's certificate in the order
``openssl`` writes them (often not DER's), as many real authorities do. Without ``openssl``
the fixture fails, never skips: CI must not pass while leaving the trusted-time tests out.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

TSA_CONFIG = """\
[ tsa ]
default_tsa = tsa_config

[ tsa_config ]
dir = {dir}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/{name}-tsa.pem
certs = $dir/{name}-ca.pem
signer_key = $dir/{name}-tsa.key
signer_digest = sha256
default_policy = 1.3.6.1.4.1.99999.3161.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""

TSA_EXTENSIONS = """\
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = critical, timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_authority(folder: Path, name: str = "local") -> tuple[Path, Path]:
    """A CA and a TSA certificate it issued; returns (CA certificate, openssl ts config)."""
    if shutil.which("openssl") is None:
        pytest.fail(
            "The trusted-time tests need the openssl command line tool (Debian package "
            "'openssl'); install it — these tests must not be skipped."
        )
    folder.mkdir(parents=True, exist_ok=True)
    _openssl(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", f"{name}-ca.key", "-out", f"{name}-ca.pem", "-days", "3650",
        "-subj", f"/CN=Fundflow test CA {name}",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        cwd=folder,
    )  # fmt: skip
    _openssl(
        "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", f"{name}-tsa.key", "-out", f"{name}-tsa.csr",
        "-subj", f"/CN=Fundflow test TSA {name}",
        cwd=folder,
    )  # fmt: skip
    (folder / f"{name}-tsa.ext").write_text(TSA_EXTENSIONS)
    _openssl(
        "x509", "-req", "-in", f"{name}-tsa.csr", "-CA", f"{name}-ca.pem",
        "-CAkey", f"{name}-ca.key", "-CAcreateserial", "-days", "3650",
        "-extfile", f"{name}-tsa.ext", "-out", f"{name}-tsa.pem",
        cwd=folder,
    )  # fmt: skip
    (folder / "serial").write_text("01\n")
    config = folder / f"{name}-tsa.cnf"
    config.write_text(TSA_CONFIG.format(dir=folder, name=name))
    return folder / f"{name}-ca.pem", config


@dataclass
class LocalTimestampAuthority:
    """A running authority: POST a query to ``url``; trust ``ca_pem``; ``stop()`` ends it."""

    url: str
    ca_pem: bytes
    folder: Path
    server: ThreadingHTTPServer = field(repr=False)
    thread: threading.Thread = field(repr=False)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def _handler(folder: Path, config: Path) -> type[BaseHTTPRequestHandler]:
    lock = threading.Lock()  # openssl ts rewrites the serial file on every reply

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            if self.path != "/tsa":
                self.send_error(404, "Not a timestamp authority here")
                return
            query = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with lock:
                (folder / "query.tsq").write_bytes(query)
                result = subprocess.run(
                    [
                        "openssl", "ts", "-reply", "-config", str(config),
                        "-queryfile", "query.tsq", "-out", "reply.tsr",
                    ],
                    cwd=folder, capture_output=True, check=False,
                )  # fmt: skip
                reply = (folder / "reply.tsr").read_bytes() if result.returncode == 0 else b""
            if not reply:
                self.send_error(500, "openssl ts -reply failed")
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the test output is not the place for an access log."""

    return Handler


def start_authority(folder: Path, name: str = "local") -> LocalTimestampAuthority:
    ca, config = make_authority(folder, name)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(folder, config))
    thread = threading.Thread(target=server.serve_forever, name=f"tsa-{name}", daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    return LocalTimestampAuthority(
        url=f"http://{host!s}:{port}/tsa",
        ca_pem=ca.read_bytes(),
        folder=folder,
        server=server,
        thread=thread,
    )


@pytest.fixture(scope="session")
def local_tsa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalTimestampAuthority]:
    """A timestamp authority on 127.0.0.1 for the whole session, stopped at its end."""
    authority = start_authority(tmp_path_factory.mktemp("tsa"))
    yield authority
    authority.stop()


@pytest.fixture(scope="session")
def other_ca_pem(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A CA certificate that never issued the local authority's certificate."""
    ca, _config = make_authority(tmp_path_factory.mktemp("other-tsa"), "other")
    return ca.read_bytes()
