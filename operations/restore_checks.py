"""The checks of a restore drill, run inside a process started on the scratch copy.

That process (``manage.py restore_check_run``) has the backup's own keys from the key file in
its environment, never the running installation's: the drill proves the key backup too. Each
check is one line; nothing here writes, and no key or personal value is ever shown (people
are named by reference).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.views.decorators.debug import sensitive_variables

from accounting.ledger import trial_balance
from accounting.models import FiscalYear, Payee, PayeeKind
from audit.verification import VerificationNotPossible, verify_chain
from core.crypto import DecryptionFailed, blind_index, unwrap_data_key, unwrap_with_master_keys
from core.exceptions import ValidationFailed
from fund.models import Beneficiary
from fund.token_fields import MASTER_WRAPPED

#: How many people (and person payees, and master-wrapped secrets) the drill opens.
SAMPLE_SIZE = 20
#: How many failing references a line names; the count covers them all.
NAMED = 5
#: Set by restore_check for the process it starts: the checks run only on a scratch copy.
SCRATCH_MARKER = "FUNDFLOW_RESTORE_CHECK_SCRATCH"
#: The key file's path, for messages that name it.
KEY_FILE_VARIABLE = "FUNDFLOW_RESTORE_CHECK_KEY_FILE"


@dataclass(frozen=True)
class CheckLine:
    ok: bool
    text: str

    def render(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'}  {self.text}"


def _key_file() -> str:
    return os.environ.get(KEY_FILE_VARIABLE, "the key file")


def _named(references: Sequence[str]) -> str:
    more = ", …" if len(references) > NAMED else ""
    return ", ".join(references[:NAMED]) + more


def spread(ids: Sequence[Any], size: int = SAMPLE_SIZE) -> list[Any]:
    """Up to ``size`` of ``ids``, evenly spread from the first to the last."""
    if len(ids) <= size:
        return list(ids)
    return [ids[i * (len(ids) - 1) // (size - 1)] for i in range(size)]


def check_migrations() -> CheckLine:
    executor = MigrationExecutor(connection)
    loader = executor.loader
    unknown = sorted(
        f"{app}.{name}"
        for app, name in loader.applied_migrations
        if (app, name) not in loader.graph.nodes
    )
    missing = [
        f"{m.app_label}.{m.name}" for m, _ in executor.migration_plan(loader.graph.leaf_nodes())
    ]
    if unknown:
        return CheckLine(
            False,
            f"migrations: the backup has {len(unknown)} migrations this code does not know "
            f"({_named(unknown)}): restore it with the release it was taken with",
        )
    if missing:
        return CheckLine(
            False,
            f"migrations: {len(missing)} of this code's migrations are not applied in the backup "
            f"({_named(missing)})",
        )
    return CheckLine(
        True,
        f"migrations: the database is at this code's migrations "
        f"({len(loader.applied_migrations)} applied)",
    )


def check_database_file() -> CheckLine:
    """SQLite's own check of every page and index (a torn copy fails here first)."""
    if connection.vendor != "sqlite":
        return CheckLine(True, "database: restored by pg_restore without errors")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA integrity_check")
        found = [str(row[0]) for row in cursor.fetchall()]
    if found == ["ok"]:
        return CheckLine(True, "database: SQLite integrity_check ok")
    return CheckLine(False, f"database: SQLite integrity_check found {_named(found)}")


def check_audit_chain() -> CheckLine:
    """The chain as ``audit_verify`` reports it (without recording a run or alerting)."""
    try:
        outcome = verify_chain()
    except VerificationNotPossible as exc:
        return CheckLine(False, f"audit chain not verified: {exc}")
    return CheckLine(outcome.ok, outcome.line().replace("\n", "; "))


def check_trial_balance() -> CheckLine:
    """Every fiscal year's postings, and all of them, sum to zero (the ledger is SEK only)."""
    try:
        off: list[str] = []
        years = list(FiscalYear.objects.order_by("start"))
        for year in years:
            total = sum(trial_balance(year).values(), Decimal("0.00"))
            if total:
                off.append(f"{year.start:%Y}: {total} SEK")
        total = sum(trial_balance().values(), Decimal("0.00"))
    except ValidationFailed as exc:
        return CheckLine(False, f"trial balance: {exc}")
    if total:
        off.append(f"all postings: {total} SEK")
    if off:
        return CheckLine(False, f"trial balance is not 0: {'; '.join(off)}")
    named = ", ".join(f"{year.start:%Y}" for year in years) or "none"
    return CheckLine(
        True, f"trial balance 0 SEK in every fiscal year ({named}) and over all postings"
    )


@sensitive_variables()
def _opens(wrapped_key: str) -> bool:
    try:
        unwrap_data_key(wrapped_key)
    except DecryptionFailed:
        return False
    return True


@sensitive_variables()
def _sample_people() -> tuple[int, list[str], list[str], list[str], int]:
    """(people tried, keys not opened, data not decrypted, indexes not recomputed, indexes)."""
    people = Beneficiary.objects.filter(erased_at__isnull=True).exclude(wrapped_key="")
    ids = list(
        people.exclude(encrypted_personal_data="").order_by("pk").values_list("pk", flat=True)
    )
    sample = list(Beneficiary.objects.filter(pk__in=spread(ids)).order_by("pk"))
    locked: list[str] = []
    unreadable: list[str] = []
    unmatched: list[str] = []
    indexes = 0
    for person in sample:
        if not _opens(person.wrapped_key):
            locked.append(person.reference)
            continue
        try:
            number = str(person.personal_data.get("personnummer", ""))
        except DecryptionFailed:
            unreadable.append(person.reference)
            continue
        if number and person.personnummer_index:
            indexes += 1
            if blind_index(number) != person.personnummer_index:
                unmatched.append(person.reference)
    return len(sample), locked, unreadable, unmatched, indexes


@sensitive_variables()
def _sample_payees() -> tuple[int, list[str], list[str]]:
    """(person payees tried, keys not opened, data not decrypted or not this payee's)."""
    payees = Payee.objects.filter(kind=PayeeKind.PERSON).exclude(wrapped_key="")
    ids = list(
        payees.exclude(encrypted_personal_data="").order_by("pk").values_list("pk", flat=True)
    )
    sample = list(Payee.objects.filter(pk__in=spread(ids)).order_by("pk"))
    locked: list[str] = []
    unreadable: list[str] = []
    for payee in sample:
        if not _opens(payee.wrapped_key):
            locked.append(payee.reference)
            continue
        try:
            payee.own_personal_data()
        except (DecryptionFailed, ValidationFailed):
            unreadable.append(payee.reference)
    return len(sample), locked, unreadable


@sensitive_variables()
def _sample_master_wrapped() -> tuple[int, int]:
    """(secrets tried, not unwrapped) of the columns wrapped by the master keys directly."""
    from django.apps import apps

    tried = failed = 0
    for wrapped in MASTER_WRAPPED:
        rows = apps.get_model(wrapped.model)._default_manager.exclude(**{wrapped.field: ""})
        ids = list(rows.order_by("pk").values_list("pk", flat=True))
        values = rows.filter(pk__in=spread(ids)).values_list(wrapped.field, flat=True)
        for value in values:
            tried += 1
            try:
                unwrap_with_master_keys(str(value))
            except DecryptionFailed:
                failed += 1
    return tried, failed


def check_people_decrypt() -> list[CheckLine]:
    """A spread sample of people and person payees opens with the key file's keys."""
    people, locked, unreadable, unmatched, indexes = _sample_people()
    payees, payees_locked, payees_unreadable = _sample_payees()
    secrets_tried, secrets_failed = _sample_master_wrapped()
    lines: list[CheckLine] = []
    if locked or payees_locked or secrets_failed:
        named = locked + payees_locked
        lines.append(
            CheckLine(
                False,
                f"the field-encryption key in {_key_file()} does not open the backup's data keys "
                f"({len(locked)} of {people} people, {len(payees_locked)} of {payees} person "
                f"payees, {secrets_failed} of {secrets_tried} bank-file secrets"
                + (f": {_named(named)}" if named else "")
                + ")",
            )
        )
    if unreadable or payees_unreadable:
        named = unreadable + payees_unreadable
        lines.append(
            CheckLine(
                False,
                f"personal data does not decrypt although the data keys open ({len(named)} of "
                f"{people + payees}: {_named(named)}): the rows were changed or damaged",
            )
        )
    if unmatched:
        lines.append(
            CheckLine(
                False,
                f"the blind-index key in {_key_file()} does not recompute the stored personnummer "
                f"indexes ({len(unmatched)} of {indexes}: {_named(unmatched)}): duplicate "
                "detection and the yearly limit per person would fail",
            )
        )
    if lines:
        return lines
    if not people and not payees:
        return [CheckLine(True, "people decrypt: the backup holds nobody to sample")]
    return [
        CheckLine(
            True,
            f"people decrypt: {people} of {people} people and {payees} of {payees} person "
            f"payees sampled open with the key file; {indexes} of {indexes} personnummer "
            "indexes recompute",
        )
    ]


CHECKS: tuple[Callable[[], CheckLine | list[CheckLine]], ...] = (
    check_database_file,
    check_migrations,
    check_audit_chain,
    check_trial_balance,
    check_people_decrypt,
)


def run_checks() -> list[CheckLine]:
    """Every check; the later ones only when the schema is this code's (else they would
    fail on a missing column rather than say what is wrong)."""
    lines = [check_database_file(), check_migrations()]
    if not all(line.ok for line in lines):
        return lines
    for check in CHECKS[2:]:
        found = check()
        lines.extend(found if isinstance(found, list) else [found])
    return lines
