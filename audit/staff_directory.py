"""The staff directory: a signed list of user ids to names, so the trail can be read years later.

The audit log names its actors by id only (it may hold no personal values). An auditor
downloads this list for a period and keeps it with the checkpoint file; it is a signed note
(c2sp.org/signed-note) under the log's name and key::

    fundflow.example/audit/staff-directory
    period 2026-01-01 2026-12-31
    generated 2027-01-05T09:30:00Z
    user 3 officer officer active Olle Officer
    user 9 admin administrator,auditor inactive Ada Admin
    user 17 - - deleted

    — fundflow.example/audit AbCd…

- line 1: ``<AUDIT_LOG_ORIGIN>/staff-directory``; line 2: the period, first and last day
  (days in the installation's time zone, both included); line 3: when it was made (UTC).
  Line 2 is not a number, so the note can never be taken for a checkpoint.
- one ``user`` line per user who existed in the period (joined on or before its last day) or
  acted in it (the actor of an event in the period), by id:
  ``user <id> <username> <roles or -> <active|inactive|deleted> <full name>``. Roles are the
  role codes, comma-separated; the name comes last because it may contain spaces, and is left
  out when empty. ``deleted`` is an actor whose account no longer exists (name unknown).
  Control characters are stripped, and a username loses any whitespace.

Check it offline (no Django, no database)::

    python -m audit.staff_directory verify staff-2026.txt --vkey auditors-checkpoints.txt

``--vkey`` is the log's verifier key (``<origin>+<key id>+<key>``) or the auditors'
checkpoint file that holds it. Exit 0 prints the period and the number of users; 1 when the
signature or the content does not verify; 2 when the file or key cannot be read.
"""

from __future__ import annotations

import argparse
import re
import sys
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from audit.checkpoint_file import parse_checkpoint_file
from audit.note import NoteError, VerifierKey, open_note

SUFFIX = "/staff-directory"
STATUSES = ("active", "inactive", "deleted")
_DATE = r"\d{4}-\d{2}-\d{2}"
_USER_LINE = re.compile(r"user (\d+) (\S+) (\S+) (active|inactive|deleted)(?: (.+))?")


@dataclass(frozen=True)
class StaffEntry:
    user_id: int
    username: str
    roles: tuple[str, ...]
    status: str
    full_name: str

    def line(self) -> str:
        roles = ",".join(self.roles) or "-"
        name = f" {self.full_name}" if self.full_name else ""
        return f"user {self.user_id} {self.username or '-'} {roles} {self.status}{name}"


@dataclass(frozen=True)
class StaffDirectory:
    origin: str
    start: date
    end: date
    generated: str
    users: list[StaffEntry]

    def text(self) -> str:
        lines = [
            f"{self.origin}{SUFFIX}",
            f"period {self.start.isoformat()} {self.end.isoformat()}",
            f"generated {self.generated}",
            *(entry.line() for entry in self.users),
        ]
        return "\n".join(lines) + "\n"

    @classmethod
    def parse(cls, text: str) -> StaffDirectory:
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "" or not lines[0].endswith(SUFFIX):
            raise NoteError(f"a staff directory's first line is <origin>{SUFFIX}")
        period = re.fullmatch(rf"period ({_DATE}) ({_DATE})", lines[1])
        generated = re.fullmatch(r"generated (\S+)", lines[2])
        if period is None or generated is None:
            raise NoteError("a staff directory names its period and when it was generated")
        users = []
        for line in lines[3:-1]:
            match = _USER_LINE.fullmatch(line)
            if match is None:
                raise NoteError(f"not a user line: {line[:40]!r}")
            user_id, username, roles, status, name = match.groups()
            users.append(
                StaffEntry(
                    int(user_id),
                    "" if username == "-" else username,
                    () if roles == "-" else tuple(roles.split(",")),
                    status,
                    name or "",
                )
            )
        return cls(
            lines[0].removesuffix(SUFFIX),
            date.fromisoformat(period[1]),
            date.fromisoformat(period[2]),
            generated[1],
            users,
        )


def printable(text: str) -> str:
    """One line, as typed otherwise: control and format characters stripped.

    A line break or tab (a control character too) becomes a space, so words stay apart.
    """
    cleaned = "".join(
        " " if c.isspace() else c
        for c in text
        if c.isspace() or unicodedata.category(c) not in ("Cc", "Cf")
    )
    return " ".join(cleaned.split())


def staff_directory(start: date, end: date, *, actor: Any = None) -> str:
    """The signed directory for ``start``..``end``; making it is itself an audit event."""
    from django.db import transaction
    from django.utils import timezone
    from django.utils.translation import gettext

    from audit.context import current_role
    from audit.services import record_event
    from audit.signing import log_origin, sign_note
    from core.exceptions import ValidationFailed

    if end < start:
        raise ValidationFailed(gettext("The period ends before it starts."))
    with transaction.atomic():
        directory = StaffDirectory(
            origin=log_origin(),
            start=start,
            end=end,
            generated=timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
            users=_entries(start, end),
        )
        record_event(
            action="audit.staff_directory_exported",
            actor=actor,
            role="auditor" if _is_auditor(actor) else current_role(actor=actor),
            object_type="staff_directory",
            payload={
                "period_start": start.isoformat(),
                "period_end": end.isoformat(),
                "users": len(directory.users),
            },
        )
        return sign_note(directory.text())


def _is_auditor(actor: Any) -> bool:
    from core.roles import Role, has_role

    return actor is not None and has_role(actor, Role.AUDITOR)


def _entries(start: date, end: date) -> list[StaffEntry]:
    """Users who joined by the period's end, and every actor of an event in the period."""
    from datetime import datetime, time, timedelta

    from django.contrib.auth import get_user_model
    from django.db.models import Q
    from django.utils import timezone

    from audit.models import AuditEvent
    from core.roles import Role

    zone = timezone.get_default_timezone()
    since = datetime.combine(start, time.min, tzinfo=zone)
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone)
    actors = {
        int(actor_id)
        for actor_id in AuditEvent.objects.filter(
            occurred_at__gte=since, occurred_at__lt=until, actor_id__isnull=False
        )
        .order_by()
        .values_list("actor_id", flat=True)
        .distinct()
        if actor_id is not None
    }
    users = (
        get_user_model()
        .objects.filter(Q(date_joined__lt=until) | Q(pk__in=actors))
        .prefetch_related("groups")
        .order_by("pk")
    )
    entries = {
        user.pk: StaffEntry(
            user_id=user.pk,
            username="".join(printable(user.get_username()).split()),
            roles=tuple(sorted(g.name for g in user.groups.all() if g.name in Role.values)),
            status="active" if user.is_active else "inactive",
            full_name=printable(user.get_full_name()),
        )
        for user in users
    }
    for gone in actors - set(entries):
        entries[gone] = StaffEntry(gone, "", (), "deleted", "")
    return [entries[pk] for pk in sorted(entries)]


# ---------------------------------------------------------------------------------------
# Offline verification (no Django)


def read_verifier_key(value: str) -> VerifierKey:
    """A verifier key string, or the auditors' checkpoint file that names one."""
    path = Path(value)
    if path.is_file():
        return parse_checkpoint_file(path.read_text(encoding="utf-8")).vkey
    return VerifierKey.parse(value)


def verify_directory(signed: str, vkey: VerifierKey) -> StaffDirectory:
    """The directory, if the log's key signed it and it is a directory of that log."""
    text, _ = open_note(signed, [vkey])
    directory = StaffDirectory.parse(text)
    if directory.origin != vkey.name:
        raise NoteError(f"a staff directory of log {directory.origin}, not {vkey.name}")
    return directory


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m audit.staff_directory")
    commands = parser.add_subparsers(dest="command", required=True)
    verify = commands.add_parser("verify", help="check a staff directory's signature")
    verify.add_argument("file", type=Path)
    verify.add_argument("--vkey", required=True, help="verifier key, or a checkpoint file")
    args = parser.parse_args(argv)
    try:
        signed = args.file.read_text(encoding="utf-8")
        vkey = read_verifier_key(args.vkey)
    except (OSError, UnicodeDecodeError, NoteError) as exc:
        print(f"cannot read: {exc}", file=sys.stderr)
        return 2
    try:
        directory = verify_directory(signed, vkey)
    except NoteError as exc:
        print(f"NOT VERIFIED: {exc}", file=sys.stderr)
        return 1
    print(
        f"staff directory of {directory.origin}: period {directory.start} to {directory.end}, "
        f"{len(directory.users)} users, generated {directory.generated}; signature verified"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
