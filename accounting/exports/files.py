"""Writing export files safely, and recording the export in the audit log."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from django.db import transaction
from django.utils.translation import gettext as _

from audit.services import record_event
from workflows.exceptions import PermissionDenied
from workflows.roles import Role, has_role

#: Who may take the books out of the system.
EXPORT_ROLES = (Role.TREASURER, Role.AUDITOR, Role.ADMINISTRATOR)


def export_role(actor: Any) -> str:
    """The role the actor exports under; ``cli`` for an operator's command without a user."""
    if actor is None:
        return "cli"
    for role in EXPORT_ROLES:
        if has_role(actor, role):
            return str(role)
    raise PermissionDenied(_("Only a treasurer, an auditor or an administrator may export."))


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike[str]) -> Iterator[IO[bytes]]:
    """A binary file that appears at ``path`` only if the block completes."""
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


def sha256_of(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def record_export(
    *,
    path: str | os.PathLike[str],
    action: str,
    actor: Any,
    role: str,
    object_ref: str,
    payload: Mapping[str, Any],
) -> None:
    """One audit event for a finished export: counts, ranges and the file's hash only.

    An export that cannot be audited is not handed out: the file is removed again.
    """
    try:
        with transaction.atomic():
            record_event(
                action=action,
                actor=actor,
                role=role,
                object_type="export",
                object_ref=object_ref,
                payload={**payload, "sha256": sha256_of(path)},
            )
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        raise
