"""Issue #13: the API takes the legal basis of an assessment only as a code."""

from __future__ import annotations

import json

from audit.models import AuditEvent

FREE_TEXT = "MMM: Anna Svensson polisanm K-123456-26"


def _logged() -> str:
    return json.dumps([e.payload for e in AuditEvent.objects.all()], default=str)


def test_api_accepts_only_legal_basis_codes(world, as_role):
    app = world.to_statutory_check(world.new_application("1500"))
    url = f"/api/v1/applications/{app.reference}/items/1/assessment/"
    body = {"outcome": "obliged", "authority": "mmm", "legal_basis": FREE_TEXT}

    response = as_role("officer").post(url, body, format="json")

    assert response.status_code == 400
    assert "legal_basis" in json.dumps(response.json())
    assert "Anna Svensson" not in _logged()
    ok = as_role("officer").post(url, {**body, "legal_basis": "mmm"}, format="json")
    assert ok.status_code == 200, ok.json()
    assert ok.json()["statutory_assessment"]["legal_basis"] == "mmm"
