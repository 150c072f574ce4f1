"""A small file system the tests can fill: a 256 KiB tmpfs, or /dev/full where mount is denied.

CI and the sandbox run as root, so ``mount -t tmpfs`` works and the disk really fills up:
the kernel answers ENOSPC once the filler and the export no longer fit. Where mounting is not
permitted (an unprivileged container), :meth:`TinyDisk.fill` instead makes every new file
the export code creates in the directory a symlink to ``/dev/full``, which also answers every
write with a real ENOSPC. ``fill()`` says which one ran, for the evidence report.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

SIZE = 256 * 1024
FILLER = "filler.bin"


class TinyDisk:
    def __init__(self, path: Path, mounted: bool):
        self.path = path
        self.mounted = mounted
        self._patch = pytest.MonkeyPatch()

    def free(self) -> int:
        stat = os.statvfs(self.path)
        return stat.f_bavail * stat.f_frsize

    def fill(self, leave: int) -> str:
        """Leave about ``leave`` bytes free; say how (for the evidence report)."""
        if not self.mounted:
            self._patch.setattr(tempfile, "mkstemp", self._full_mkstemp)
            return "a directory whose new files are symlinks to /dev/full (mount not permitted)"
        size = max(0, self.free() - leave)
        with open(self.path / FILLER, "wb") as filler:
            filler.write(b"\0" * size)
        return (
            f"a tmpfs of {SIZE // 1024} KiB filled with {size} bytes of filler, "
            f"{self.free()} bytes free"
        )

    def clear(self) -> None:
        """Free the space again."""
        (self.path / FILLER).unlink(missing_ok=True)
        self._patch.undo()

    def files(self) -> list[str]:
        return sorted(p.name for p in self.path.iterdir() if p.name != FILLER)

    def _full_mkstemp(self, *args: Any, **kwargs: Any) -> tuple[int, str]:
        directory = Path(kwargs.get("dir") or "")
        if directory != self.path:
            return _mkstemp(*args, **kwargs)
        name = directory / f"{kwargs.get('prefix', '')}full{kwargs.get('suffix', '')}"
        name.symlink_to("/dev/full")
        return os.open(name, os.O_WRONLY), str(name)


_mkstemp = tempfile.mkstemp


def _mount(path: Path) -> bool:
    try:
        result = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={SIZE}", "tmpfs", str(path)],
            capture_output=True,
            timeout=30,
        )
    except OSError:
        return False
    return result.returncode == 0


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[TinyDisk]:
    path = tmp_path / "disk"
    path.mkdir()
    mounted = _mount(path)
    disk = TinyDisk(path, mounted)
    try:
        yield disk
    finally:
        disk.clear()
        if mounted:
            subprocess.run(["umount", "--lazy", str(path)], check=False, timeout=30)
