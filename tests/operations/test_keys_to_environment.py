"""Issue #18: the embedded key files become environment keys in a private file, never shown."""

from __future__ import annotations

import os
import stat
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import CommandError


def _values(path: Path) -> dict[str, str]:
    lines = path.read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def test_keys_to_environment_writes_both_keys_to_an_owner_only_file_and_prints_neither(
    tmp_path: Path,
) -> None:
    target = tmp_path / "keys.env"
    out, err = StringIO(), StringIO()
    previous = os.umask(0)  # even a careless umask gives no one else a look
    try:
        call_command("keys_to_environment", "--to", str(target), stdout=out, stderr=err)
    finally:
        os.umask(previous)

    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    field_key = Path(django_settings.FIELD_ENCRYPTION_KEY_FILE).read_text().strip()
    index_key = Path(django_settings.BLIND_INDEX_KEY_FILE).read_text().strip()
    assert _values(target) == {"FIELD_ENCRYPTION_KEYS": field_key, "BLIND_INDEX_KEY": index_key}
    shown = out.getvalue() + err.getvalue()
    assert field_key not in shown and index_key not in shown
    assert "AUDIT_SIGNING_KEY_FILE" in shown  # says where the signing key goes


def test_keys_to_environment_never_overwrites_an_existing_file(tmp_path: Path) -> None:
    target = tmp_path / "keys.env"
    target.write_text("FIELD_ENCRYPTION_KEYS=the-only-copy\n")

    with pytest.raises(CommandError, match="exists already"):
        call_command("keys_to_environment", "--to", str(target), stdout=StringIO())

    assert target.read_text() == "FIELD_ENCRYPTION_KEYS=the-only-copy\n"


def test_keys_to_environment_refuses_a_missing_key_file_rather_than_making_a_key(
    tmp_path: Path, settings: Any
) -> None:
    missing = tmp_path / "lost" / "blind-index.key"
    settings.BLIND_INDEX_KEY_FILE = missing
    target = tmp_path / "keys.env"

    with pytest.raises(CommandError, match=f"No key file at {missing}"):
        call_command("keys_to_environment", "--to", str(target), stdout=StringIO())

    assert not missing.exists() and not target.exists()
