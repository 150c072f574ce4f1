"""Issue #19 (fixes, 3): a refused step is named by its label, never by its code.

"“request_attestation” is not possible…" on the case page or in the API says nothing to a fund
officer: the refusal names the step as its button does ("Ask the ombud to attest"), in the
active language.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from core.exceptions import PermissionDenied, TransitionNotAvailable
from tests.fixtures import World
from tests.signin import api_client, sign_in
from workflows import services, step_inputs
from workflows.step_labels import STEP_LABELS, step_label


def test_a_step_not_possible_now_is_named_by_its_label(world: World) -> None:
    draft = world.new_application("500")
    with pytest.raises(TransitionNotAvailable) as refused:
        services.transition(draft, actor=world.officer, step=step_inputs.RequestAttestation())
    assert str(refused.value.messages[0]) == (
        "“Ask the ombud to attest” is not possible while the application is “Draft”."
    )


def test_a_step_the_actor_may_not_run_is_named_by_its_label(world: World) -> None:
    ready = world.to_decision(world.new_application("500"))
    with pytest.raises(PermissionDenied) as refused:
        world.run(ready, "approve", world.officer)
    message = " ".join(map(str, refused.value.messages))
    assert f"You may not run “Approve” on {ready.reference}." == message


def test_the_label_is_in_the_active_language(world: World) -> None:
    draft = world.new_application("500")
    with translation.override("sv"), pytest.raises(TransitionNotAvailable) as refused:
        services.transition(draft, actor=world.officer, step=step_inputs.RequestAttestation())
    message = str(refused.value.messages[0])
    assert "Be ombudet intyga" in message and "request_attestation" not in message


def test_every_step_has_a_label() -> None:
    assert set(STEP_LABELS) == set(services.HANDLERS)
    assert step_label("no_such_step") == "no_such_step"


def test_the_case_page_and_the_api_show_the_label_not_the_code(world: World) -> None:
    draft = world.new_application("500")
    officer = sign_in(Client(), world.officer)
    shown = officer.post(
        reverse("web:application_transition", args=[draft.reference, "request_attestation"]),
        follow=True,
    ).content.decode()
    assert "“Ask the ombud to attest” is not possible" in shown
    assert "request_attestation”" not in shown

    answer = api_client(world.officer).post(
        f"/api/v1/applications/{draft.reference}/transitions/request_attestation/",
        {},
        format="json",
    )
    assert answer.status_code in (400, 409), answer.content
    assert "Ask the ombud to attest" in answer.content.decode()
    assert "request_attestation”" not in answer.content.decode()
