"""Fixtures of the fault scenarios."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core.database_incidents import incidents


@pytest.fixture
def export_dir(settings: Any, tmp_path: Path) -> Path:
    """Where export jobs write their files (``EXPORT_FILES_DIR``), empty."""
    settings.EXPORT_FILES_DIR = tmp_path / "exports"
    return Path(settings.EXPORT_FILES_DIR)


@pytest.fixture(autouse=True)
def _no_open_database_incident() -> None:
    """The incident log is per process: each test starts with none open."""
    incidents.reset()
