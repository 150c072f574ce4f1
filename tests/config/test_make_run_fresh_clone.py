"""`make run` stays the two-command demo on a fresh clone, and what it creates is owner-only
(issue #14, defect 4): `migrate` then `seed_demo`, as the Makefile runs them, in an empty
folder with no keys and no database."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet
from django.conf import settings

from core.crypto import twelve_digits

#: What the demo's settings use when nothing is set (config/settings.py).
DEMO_SECRET_KEY = "embedded-mode-only-not-secret-" + "x" * 40

#: Variables a developer's shell or the test run may carry; a fresh `make run` has none.
UNSET = (
    "DEBUG",
    "DATABASE_URL",
    "SECRET_KEY",
    "FIELD_ENCRYPTION_KEYS",
    "FIELD_ENCRYPTION_KEY_FILE",
    "BLIND_INDEX_KEY",
    "BLIND_INDEX_KEY_FILE",
    "AUDIT_SIGNING_KEY_FILE",
    "AUDIT_PUBLIC_KEY_FILE",
    "GENERATE_MISSING_KEYS",
    "PAYOUT_FILES_DIR",
    "EXPORT_FILES_DIR",
    "CELERY_BROKER_URL",
    "DJANGO_SETTINGS_MODULE",
)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _manage(var: Path, database: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in UNSET}
    env.update({"FUNDFLOW_VAR_DIR": str(var), "DATABASE_URL": f"sqlite:///{database}"})
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_make_run_on_a_fresh_clone_still_seeds_the_demo_with_owner_only_files(tmp_path):
    var = tmp_path / "var"
    database = tmp_path / "db.sqlite3"
    for step in (("migrate", "--noinput"), ("seed_demo",)):
        result = _manage(var, database, *step)
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    assert "Demo users" in result.stdout

    assert _mode(database) == 0o600
    keys = var / "keys"
    assert _mode(keys) == 0o700
    for name in ("field-encryption.key", "blind-index.key"):
        assert _mode(keys / name) == 0o600, name
    for folder in ("payouts", "exports"):
        assert _mode(var / folder) == 0o700, folder

    # Each index is an HMAC of the twelve-digit personnummer under the index's own key, and
    # not under the public development SECRET_KEY (which would let anyone reverse it).
    master = Fernet((keys / "field-encryption.key").read_bytes().strip())
    index_key = (keys / "blind-index.key").read_bytes().strip()
    with sqlite3.connect(database) as db:
        rows = db.execute(
            "SELECT wrapped_key, encrypted_personal_data, personnummer_index "
            "FROM fund_beneficiary WHERE personnummer_index != ''"
        ).fetchall()
    assert rows, "the demo people have personnummer indexes"
    for wrapped, token, index in rows:
        number = json.loads(Fernet(master.decrypt(wrapped.encode())).decrypt(token.encode()))[
            "personnummer"
        ]
        twelve = twelve_digits(number)
        assert index == hmac.new(index_key, twelve.encode(), hashlib.sha256).hexdigest()
        public = hmac.new(DEMO_SECRET_KEY.encode(), twelve.encode(), hashlib.sha256)
        assert index != public.hexdigest()


def test_a_fresh_make_run_with_a_few_steps_taken_has_checkpoints_without_any_worker(tmp_path):
    """Issue #15: the embedded default checkpoints by itself — no Celery, no beat, no cron."""
    from audit.checkpoint_file import read_held_checkpoints
    from audit.note import CheckpointBody, VerifierKey, open_note
    from audit.signing import load_public_key

    var = tmp_path / "var"
    database = tmp_path / "db.sqlite3"
    for step in (("migrate", "--noinput"), ("seed_demo",)):
        result = _manage(var, database, *step)
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    with sqlite3.connect(database) as db:
        head = db.execute("SELECT sequence FROM audit_audithead").fetchone()[0]
        notes = db.execute(
            "SELECT sequence, note FROM audit_auditcheckpoint ORDER BY sequence"
        ).fetchall()
    assert notes, "seeding took steps, so the log has checkpoints"
    public_key = load_public_key(var / "keys" / "audit-signing.pub.pem")
    origin = notes[-1][1].split("\n", 1)[0]
    for sequence, note in notes:
        text, _ = open_note(note, [VerifierKey(origin, public_key)])
        assert CheckpointBody.parse(text).tree_size == sequence
    assert head - notes[-1][0] < 100  # no more than the set threshold waits for the next

    # The auditors' file the pages offer verifies the same way, offline.
    result = _manage(
        var,
        database,
        "shell",
        "-v",
        "0",
        "-c",
        "from audit.checkpoints import auditors_file; print(auditors_file(), end='')",
    )
    kept = tmp_path / "kept.txt"
    kept.write_text(result.stdout)
    _, held = read_held_checkpoints(kept)
    assert [h.body.tree_size for h in held] == [s for s, _ in notes]
