"""The decision trail reads as a story for people, in a fixed number of queries."""

from __future__ import annotations

from workflows.decision_trail import action_label, decision_trail, summarise


def test_the_trail_tells_the_case_in_order(world):
    app = world.to_paid(world.new_application("1500", "800"))
    rows = decision_trail(app)
    assert [r.action for r in rows] == [
        "Person registered",
        "Application created",
        "Submitted",
        "Ombud asked to attest the need",
        "Need attested by the ombud",
        "Statutory obligation check started",
        "Statutory obligation assessed for an item",
        "Statutory obligation assessed for an item",
        "Cleared for decision",
        "Approved",
        "Payout scheduled",
        "Payment confirmed",
    ]
    assert [r.sequence for r in rows] == sorted(r.sequence for r in rows)
    submitted = rows[2]
    assert submitted.actor == world.ombud.user.get_full_name()
    assert submitted.role == "Ombud"
    assert submitted.summary == "Draft → Submitted"
    approved = rows[9]
    assert approved.actor == world.decider.get_full_name()
    assert approved.role == "Decision-maker (beslutsfattare)"
    assert "Ready for decision → Approved" in approved.summary
    assert "total: SEK 2,300.00" in approved.summary
    assert rows[6].summary.startswith("item 1; Not obliged")
    assert rows[0].occurred_at <= rows[-1].occurred_at


def test_the_trail_needs_two_queries_however_long_it_is(world, django_assert_max_num_queries):
    app = world.to_paid(world.new_application("1500", "800", "300"))
    app = world.run(app, "close", world.officer)
    with django_assert_max_num_queries(2):
        rows = decision_trail(app)
    assert len(rows) == 14


def test_the_trail_of_another_case_is_not_mixed_in(world):
    first = world.new_application("100")
    second = world.new_application("200")
    world.run(second, "submit", world.ombud.user)
    assert [r.action for r in decision_trail(first)] == [
        "Person registered",
        "Application created",
    ]


def test_unknown_actions_and_system_events_still_read(db):
    assert action_label("accounting.voucher_posted") == "accounting: voucher posted"
    assert summarise({"fields": ["max_per_item"], "values": {}}) == "fields: max_per_item"
    assert summarise({}) == ""


def test_the_trail_speaks_swedish(world):
    from django.utils import translation

    app = world.to_decision(world.new_application("1500"))
    with translation.override("sv"):
        rows = decision_trail(app)
    actions = [r.action for r in rows]
    assert "Behovet intygat av ombudet" in actions
    assert "Samhällets ansvar bedömt för en behovspost" in actions
    assessed = next(r for r in rows if r.action.startswith("Samhällets ansvar bedömt"))
    assert assessed.summary.startswith("post 1; Inte samhällets ansvar")
    assert "kan beviljas: 1\u00a0500,00\u00a0kr" in assessed.summary
