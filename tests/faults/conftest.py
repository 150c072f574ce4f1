"""Fixtures of the fault scenarios."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def export_dir(settings: Any, tmp_path: Path) -> Path:
    """Where export jobs write their files (``EXPORT_FILES_DIR``), empty."""
    settings.EXPORT_FILES_DIR = tmp_path / "exports"
    return Path(settings.EXPORT_FILES_DIR)
