"""Pseudonymous, gap-free case references such as ``A-2026-000123``."""

from __future__ import annotations

import re

from django.db import IntegrityError, models, transaction
from django.utils import timezone

#: What ``next_reference("A")`` makes: every edge that takes a case reference checks it.
APPLICATION_REFERENCE = re.compile(r"A-\d{4}-\d{6}", re.ASCII)


class ReferenceCounter(models.Model):
    prefix = models.CharField(max_length=4)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        app_label = "fund"
        constraints = [
            models.UniqueConstraint(fields=["prefix", "year"], name="unique_reference_counter")
        ]

    def __str__(self) -> str:
        return f"{self.prefix}-{self.year}: {self.last}"


def next_reference(prefix: str, year: int | None = None) -> str:
    """Take the next number for ``prefix`` and year; call inside the creating transaction."""
    year = year or timezone.localdate().year
    with transaction.atomic():
        counter = (
            ReferenceCounter.objects.select_for_update().filter(prefix=prefix, year=year).first()
        )
        if counter is None:
            try:
                with transaction.atomic():
                    counter = ReferenceCounter.objects.create(prefix=prefix, year=year)
            except IntegrityError:
                counter = ReferenceCounter.objects.select_for_update().get(prefix=prefix, year=year)
        counter.last += 1
        counter.save(update_fields=["last"])
    return f"{prefix}-{year}-{counter.last:06d}"
