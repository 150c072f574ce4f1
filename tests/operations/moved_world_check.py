"""After the move, as production runs: prove the moved world with the environment's keys.

``python -m tests.operations.moved_world_check REFERENCE`` (DATABASE_URL = the moved
PostgreSQL database, keys from the environment, no key files) verifies the audit chain,
checks the trial balance, decrypts every person, registers the embedded world's
personnummer again through the real intake service: the person moved must come back as the
duplicate (blind index under BLIND_INDEX_KEY); a new person gets the next id (sequences).
Prints one ``name=value`` line per result.
"""

from __future__ import annotations

import os
import sys


def run(reference: str) -> dict[str, str]:
    from accounting.ledger import trial_balance
    from audit.verification import verify_chain
    from fund.models import Beneficiary, Ombud
    from tests.operations.embedded_world import PERSONNUMMER
    from workflows import services

    outcome = verify_chain()
    people = list(Beneficiary.objects.order_by("pk"))
    names = sorted(str(person.personal_data["name"]) for person in people)
    moved = Beneficiary.objects.get(reference=reference)
    ombud = moved.applications.get().ombud
    again = services.register_beneficiary(
        actor=Ombud.objects.get(pk=ombud.pk).user,
        name="Flytta Flyttsson",
        personal_number=PERSONNUMMER,
    )
    # New rows take ids after the moved ones: the sequences were reset.
    newcomer = services.register_beneficiary(actor=ombud.user, name="Ny Nysson")
    return {
        "newcomer_after_moved": str(newcomer.pk > max(person.pk for person in people)),
        "chain_ok": str(outcome.ok),
        "chain_entries": str(outcome.entries),
        "balance": str(sum(trial_balance().values())),
        "names": "|".join(names),
        "duplicate_of": again.reference,
        "people": str(len(people)),
    }


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    for key, value in run(sys.argv[1]).items():
        print(f"{key}={value}")
