"""The ombud portal: a new application, own cases only, komplettering and resubmission."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from fund.models import Application
from tests.fixtures import World
from tests.web.conftest import sign_in


def new_application_data(world: World, **extra: str) -> dict[str, str]:
    return {
        "fund": str(world.fund.pk),
        "person-name": "Ada Andersson",
        "person-region": "AB",
        "need-TOTAL_FORMS": "3",
        "need-INITIAL_FORMS": "0",
        "need-MIN_NUM_FORMS": "0",
        "need-MAX_NUM_FORMS": "10",
        "need-0-category": "glasses",
        "need-0-description": "Nya glasögon",
        "need-0-amount": "1 250,50",
        "need-1-category": "clothes",
        "need-1-amount": "600",
        **extra,
    }


def test_an_ombud_registers_a_person_and_submits_an_application(world: World) -> None:
    client = sign_in(Client(), world.ombud.user)
    assert client.get(reverse("web:ombud_new")).status_code == 200
    response = client.post(
        reverse("web:ombud_new"), new_application_data(world, submit_now="1"), follow=True
    )
    app = Application.objects.get(ombud=world.ombud)
    assert response.redirect_chain[-1][0] == reverse("web:application", args=[app.reference])
    assert app.state == "submitted"
    amounts = [i.requested_amount.amount for i in app.items.order_by("position")]
    assert [str(a) for a in amounts] == ["1250.50", "600.00"]
    assert "Ada" not in response.content.decode(), "the name is shown only on request"


def test_the_services_refusal_is_shown_and_nothing_is_saved(world: World) -> None:
    client = sign_in(Client(), world.ombud.user)
    data = new_application_data(world, **{"need-0-amount": "999999"})
    response = client.post(reverse("web:ombud_new"), data)
    assert response.status_code == 400
    # Shown at the field and in the summary at the top (issue #19), not as a banner.
    assert "limit" in " ".join(p.message for p in response.context["problems"])
    assert not Application.objects.exists()


def test_an_ombud_sees_only_their_own_cases(world: World, users: dict) -> None:
    mine = world.new_application("500")
    client = sign_in(Client(), users["other_ombud"])
    html = client.get(reverse("web:ombud_home")).content.decode()
    assert mine.reference not in html
    html = sign_in(Client(), world.ombud.user).get(reverse("web:ombud_home")).content.decode()
    assert mine.reference in html


def test_komplettering_is_shown_clearly_and_the_ombud_resubmits(world: World) -> None:
    app = world.run(world.new_application("500"), "submit", world.ombud.user)
    world.run(app, "request_completion", world.officer, message="Bifoga <b>kvitto</b>")
    client = sign_in(Client(), world.ombud.user)
    home = client.get(reverse("web:ombud_home")).content.decode()
    assert "Komplettering requested" in home
    page = client.get(reverse("web:application", args=[app.reference])).content.decode()
    assert "Bifoga &lt;b&gt;kvitto&lt;/b&gt;" in page
    assert 'data-step="resubmit"' in page
    client.post(reverse("web:application_transition", args=[app.reference, "resubmit"]))
    app.refresh_from_db()
    assert app.state == "submitted"
    home = client.get(reverse("web:ombud_home")).content.decode()
    assert "Komplettering requested" not in home


def test_the_ombud_attests_and_must_confirm_the_need(world: World) -> None:
    app = world.run(world.new_application("500"), "submit", world.ombud.user)
    world.run(app, "request_attestation", world.officer)
    client = sign_in(Client(), world.ombud.user)
    assert "Attest the need." in client.get(reverse("web:ombud_home")).content.decode()
    url = reverse("web:application_transition", args=[app.reference, "attest"])
    response = client.post(url, {"method": "portal"}, follow=True)
    texts = [str(m) for m in response.context["messages"]]
    assert any("Confirm that you have seen the need" in t for t in texts)
    client.post(url, {"method": "portal", "need_confirmed": "on"})
    app.refresh_from_db()
    assert app.state == "ombud_verified"


def test_ombud_form_finds_a_known_personnummer_instead_of_creating_a_twin(world: World) -> None:
    from fund.models import Beneficiary

    client = sign_in(Client(), world.ombud.user)
    first = new_application_data(world, **{"person-personal_number": "19811218-9876"})
    client.post(reverse("web:ombud_new"), first)
    again = new_application_data(
        world, **{"person-name": "A. Andersson", "person-personal_number": "811218-9876"}
    )

    response = client.post(reverse("web:ombud_new"), again, follow=True)

    assert Beneficiary.objects.count() == 1
    assert Application.objects.filter(ombud=world.ombud).count() == 2
    person = Beneficiary.objects.get()
    shown = " ".join(str(m) for m in response.context["messages"])
    assert f"{person.reference} is already registered" in shown
    assert person.personal_data["name"] == "Ada Andersson"
