"""Issue #13: the legal basis of a statutory assessment is a code, never free text in the log."""

from __future__ import annotations

import importlib
import json

import pytest

from audit.models import AuditEvent
from core.exceptions import ValidationFailed
from workflows import services
from workflows.models import Obligation

FREE_TEXT = "MMM: Anna Svensson polisanm K-123456-26"


def _logged() -> str:
    return json.dumps([e.payload for e in AuditEvent.objects.all()], default=str)


def test_free_text_legal_basis_never_reaches_the_audit_log(world):
    app = world.to_statutory_check(world.new_application("900"))
    item = app.items.get()

    with pytest.raises(ValidationFailed, match="legal basis from the list"):
        services.record_statutory_assessment(
            item,
            actor=world.officer,
            outcome=Obligation.OBLIGED,
            authority="mmm",
            legal_basis=FREE_TEXT,
        )

    assert "Anna Svensson" not in _logged()
    assert "K-123456-26" not in _logged()


def test_legal_basis_is_stored_and_audited_as_a_code(world):
    app = world.to_statutory_check(world.new_application("900"))
    item = app.items.get()

    services.record_statutory_assessment(
        item,
        actor=world.officer,
        outcome=Obligation.OBLIGED,
        authority="social_services",
        legal_basis="sol_4_1",
    )
    app = world.run(app, "refer", world.officer)

    assert item.statutory_assessment.legal_basis == "sol_4_1"
    assessed = AuditEvent.objects.get(action="statutory.assessed")
    assert assessed.payload["legal_basis"] == "sol_4_1"
    referred = AuditEvent.objects.get(action="application.refer")
    assert referred.payload["referrals"][0]["legal_basis"] == "sol_4_1"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("SoL 4 kap 1 §", "sol_4_1"),
        ("SoL 4 kap. 1§", "sol_4_1"),
        ("sol 2 kap 1 §", "sol_2_1"),
        ("SoL 5 kap. 11 §", "sol_5_11"),
        ("LMA 17 §", "lma_17"),
        ("LSS 9 §", "lss_9"),
        ("MMM", "mmm"),
        ("SoL", "other"),
        (FREE_TEXT, "other"),
        ("", ""),
    ],
)
def test_old_legal_basis_texts_become_codes(text, code):
    migration = importlib.import_module("workflows.migrations.0004_legal_basis_code")
    assert migration.code_for(text) == code
