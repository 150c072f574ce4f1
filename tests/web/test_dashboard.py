"""The dashboard draws its charts as SVG on the server."""

from __future__ import annotations

import re

from django.test import Client
from django.urls import reverse

from tests.fixtures import World
from tests.web.conftest import sign_in
from web.dashboard import chart, median_days_per_step


def test_the_dashboard_has_three_svg_charts_and_no_scripts_of_its_own(world: World) -> None:
    world.to_approved(world.new_application("1500"))
    world.run(world.new_application("500"), "submit", world.ombud.user)
    html = sign_in(Client(), world.officer).get(reverse("web:dashboard")).content.decode()
    assert html.count("<svg") == 3
    assert "Ready for decision" in html or "Approved" in html
    body = html.split("<body", 1)[1]
    assert not re.search(r"<script", body)


def test_bars_scale_to_the_largest_value() -> None:
    drawn = chart([("a", 10, "10"), ("b", 5, "5"), ("c", 0, "0")])
    assert [bar.width for bar in drawn.bars] == [420, 210, 0]
    assert drawn.height == 3 * 28


def test_median_days_per_step_come_from_the_audit_trail(world: World) -> None:
    world.to_approved(world.new_application("1500"))
    steps = dict(median_days_per_step(world.fund.__class__.objects.filter(pk=world.fund.pk)))
    assert "Submitted" in steps
    assert steps["Submitted"] >= 0
