"""Dates in English as ISO (``2026-12-01 14:20``), as in Swedish (issue #19, "also")."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.urls import reverse
from django.utils import formats, timezone, translation

from tests.fixtures import World

MOMENT = timezone.make_aware(dt.datetime(2026, 12, 1, 14, 20))
ISO_DATETIME = re.compile(r"\b\d{4}-\d{2}-\d{2} \d{2}:\d{2}\b")


@pytest.mark.parametrize("language", ["en", "sv"])
def test_dates_in_english_are_iso_like_in_swedish(language: str) -> None:
    with translation.override(language):
        shown = {
            name: formats.date_format(MOMENT, name)
            for name in ("SHORT_DATE_FORMAT", "SHORT_DATETIME_FORMAT", "TIME_FORMAT")
        }
    assert shown == {
        "SHORT_DATE_FORMAT": "2026-12-01",
        "SHORT_DATETIME_FORMAT": "2026-12-01 14:20",
        "TIME_FORMAT": "14:20",
    }


def test_dates_in_english_are_iso_also_written_out() -> None:
    with translation.override("en"):
        assert formats.date_format(MOMENT, "DATE_FORMAT") == "2026-12-01"
        assert formats.date_format(MOMENT, "DATETIME_FORMAT") == "2026-12-01 14:20"


def test_the_case_page_in_english_shows_dates_as_iso(world: World, as_user: Any) -> None:
    app = world.run(world.new_application("900"), "submit", world.ombud.user)
    page = as_user(world.ombud.user).get(reverse("web:application", args=[app.reference]))
    text = page.content.decode()
    assert 'lang="en"' in text
    timeline = text[text.index('class="timeline"') :]
    assert ISO_DATETIME.search(timeline), timeline[:500]
    assert "a.m." not in text and "p.m." not in text
