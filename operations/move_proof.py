"""What proves a moved database: read back on the target, inside the move's transaction.

Each check answers one line. The audit chain is verified on what PostgreSQL stored (jsonb
re-encodes the payloads; the verifier hashes their canonical form, so the hashes made on
SQLite must still hold), the ledger must balance to 0, a sample of people must decrypt under
the configured master keys, and a registered personnummer must find its person through the
blind index under the configured index key — so duplicate detection and the yearly limit
per person keep working after the move.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.views.decorators.debug import sensitive_variables

#: How many people are decrypted (and matched by their personnummer) as the sample.
SAMPLE = 20


@dataclass(frozen=True)
class Proof:
    name: str
    passed: bool
    detail: str

    def line(self) -> str:
        return f"{'ok  ' if self.passed else 'FAIL'}  {self.name}: {self.detail}"


def audit_chain_proof() -> Proof:
    from audit.verification import verify_chain

    outcome = verify_chain()
    return Proof("audit chain", outcome.ok, outcome.line())


def trial_balance_proof() -> Proof:
    from accounting.ledger import trial_balance

    balances = trial_balance()
    total = sum(balances.values(), Decimal("0"))
    return Proof(
        "trial balance",
        total == 0,
        f"{total:.2f} over {len(balances)} accounts",
    )


@sensitive_variables()
def people_proofs() -> list[Proof]:
    """A sample of people decrypts, and the first with a personnummer is found by it."""
    from core.crypto import DecryptionFailed, blind_index
    from fund.models import Beneficiary

    sample = list(
        Beneficiary.objects.filter(erased_at__isnull=True)
        .exclude(wrapped_key="")
        .exclude(encrypted_personal_data="")
        .order_by("pk")[:SAMPLE]
    )
    failed: list[str] = []
    numbered: list[tuple[Beneficiary, str]] = []
    for person in sample:
        try:
            number = str(person.personal_data.get("personnummer", ""))
        except DecryptionFailed:
            failed.append(person.reference)
            continue
        if number and person.personnummer_index:
            numbered.append((person, number))
    decrypt = Proof(
        "people decrypt",
        not failed,
        f"{len(sample) - len(failed)} of {len(sample)} sampled"
        + (f"; not readable: {', '.join(failed)}" if failed else ""),
    )
    if not numbered:
        return [decrypt, Proof("duplicate detection", True, "no personnummer registered")]
    person, number = numbered[0]
    found = Beneficiary.objects.filter(
        personnummer_index=blind_index(number), erased_at__isnull=True
    ).values_list("reference", flat=True)
    matched = person.reference in set(found)
    return [
        decrypt,
        Proof(
            "duplicate detection",
            matched,
            f"the personnummer of {person.reference} finds "
            + (
                "that person through the blind index"
                if matched
                else "nobody: BLIND_INDEX_KEY is not the key the indexes were made with"
            ),
        ),
    ]


def moved_database_proofs() -> list[Proof]:
    return [audit_chain_proof(), trial_balance_proof(), *people_proofs()]
