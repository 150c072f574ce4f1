"""Writing export files safely, and recording the export in the audit log.

An export is written to a partial file beside its target (a dot-name ending in ``.part``,
never offered for download) and published by :func:`publish`: in one database transaction
the caller's ``claim`` (e.g. marking the job done) and the audit event with the file's
SHA-256 are written, and the file is renamed into place just before the commit. Either all
of it is there afterwards, or none of it counts.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.db import transaction
from django.utils.translation import gettext as _

from audit.services import record_event
from core.exceptions import PermissionDenied
from core.roles import Role, has_role

#: Who may take the books out of the system.
EXPORT_ROLES = (Role.TREASURER, Role.AUDITOR, Role.ADMINISTRATOR)


def export_role(*, actor: Any) -> str:
    """The role the actor exports under; ``cli`` for an operator's command without a user."""
    if actor is None:
        return "cli"
    for role in EXPORT_ROLES:
        if has_role(actor, role):
            return str(role)
    raise PermissionDenied(_("Only a treasurer, an auditor or an administrator may export."))


@dataclass
class PartialFile:
    """An export being written: ``handle`` writes to ``part``, which becomes ``target``."""

    target: Path
    part: Path
    handle: IO[bytes]


def _part_prefix(target: Path) -> str:
    return f".{target.name}."


def remove_abandoned_parts(target: Path) -> list[Path]:
    """Remove partial files of ``target`` whose writer died (a killed worker leaves them).

    A writer holds an exclusive ``flock`` on its partial file until it is done; the kernel
    drops the lock when the process dies. A file nobody holds is abandoned.
    """
    removed = []
    directory = target.parent if str(target.parent) else Path(".")
    for part in directory.glob(f"{_part_prefix(target)}*.part"):
        try:
            fd = os.open(part, os.O_RDONLY)
        except FileNotFoundError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue  # a live writer
        finally:
            os.close(fd)
        part.unlink(missing_ok=True)
        removed.append(part)
    return removed


@contextlib.contextmanager
def partial_output(path: str | os.PathLike[str]) -> Iterator[PartialFile]:
    """A partial file beside ``path``; removed again unless :func:`publish` moved it there."""
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    remove_abandoned_parts(target)
    fd, name = tempfile.mkstemp(prefix=_part_prefix(target), suffix=".part", dir=directory)
    part = Path(name)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with os.fdopen(fd, "wb") as handle:
            yield PartialFile(target, part, handle)
    finally:
        part.unlink(missing_ok=True)


def sha256_of(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def publish(
    output: PartialFile,
    *,
    action: str,
    actor: Any,
    role: str,
    object_ref: str,
    payload: Mapping[str, Any],
    claim: Callable[[], None] | None = None,
) -> str:
    """Make the written file the export, with its audit event, atomically; its SHA-256.

    In one transaction: ``claim()`` (raising aborts everything), one audit event (counts,
    ranges and the file's hash only), and, last, the rename into place. A commit that fails
    after the rename removes the file again: an export that is not audited is not handed out.
    A process killed before the commit leaves at most a file nothing refers to, which the
    next attempt at the same target replaces.
    """
    output.handle.flush()
    os.fsync(output.handle.fileno())
    digest = sha256_of(output.part)
    renamed = False
    try:
        with transaction.atomic():
            if claim is not None:
                claim()
            record_event(
                action=action,
                actor=actor,
                role=role,
                object_type="export",
                object_ref=object_ref,
                payload={**payload, "sha256": digest},
            )
            os.replace(output.part, output.target)
            renamed = True
    except BaseException:
        if renamed:
            output.target.unlink(missing_ok=True)
        raise
    return digest
