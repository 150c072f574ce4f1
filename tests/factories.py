"""factory-boy factories for the case data."""

from __future__ import annotations

from typing import Any

import factory
from django.contrib.auth.models import Group, User
from django.utils import timezone

from fund.models import Fund, FundKind, NeedCategory, Ombud, OmbudStatus, Organisation


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"User{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password("a-long-test-password")

    @factory.post_generation
    def roles(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create and extracted:
            for role in extracted:
                # Transactional tests flush the groups the migration made; recreate them.
                self.groups.add(Group.objects.get_or_create(name=role)[0])


class FundFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Fund
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"fund-{n}")
    name = factory.Sequence(lambda n: f"Fund {n}")
    kind = FundKind.GENERAL
    allowed_categories = factory.LazyFunction(lambda: list(NeedCategory.values))
    max_per_item = None
    max_per_application = None
    max_per_person_year = None
    two_signature_threshold = None
    accounting_dimension = factory.Sequence(lambda n: f"F{n}")


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Socialtjänsten {n}")
    # Valid Swedish organisation numbers (Luhn), one per sequence step.
    org_number = factory.Sequence(lambda n: _orgnr(n))
    kind = "social_services"
    verified_at = factory.LazyFunction(timezone.now)
    verification_method = "Switchboard call"


def _orgnr(n: int) -> str:
    from stdnum import luhn

    base = f"2120{n:05d}"
    return f"{base[:6]}-{base[6:]}{luhn.calc_check_digit(base)}"


class OmbudFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Ombud

    user = factory.SubFactory(UserFactory, roles=["ombud"])
    organisation = factory.SubFactory(OrganisationFactory)
    title = "Socialsekreterare"
    status = OmbudStatus.VERIFIED
    verified_at = factory.LazyFunction(timezone.now)
