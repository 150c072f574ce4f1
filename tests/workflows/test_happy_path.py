"""An application walks from draft to closed."""

from audit.models import AuditEvent
from fund.states import State
from workflows.services import available_transitions


def test_application_walks_from_draft_to_closed(world):
    app = world.new_application("1500", "800")
    assert app.state == State.DRAFT
    app = world.to_paid(app)
    assert app.state == State.PAID
    app = world.run(app, "close", world.officer)
    assert app.state == State.CLOSED
    actions = list(
        AuditEvent.objects.filter(object_ref=app.reference).values_list("action", flat=True)
    )
    assert actions == [
        "application.created",
        "application.submit",
        "application.request_attestation",
        "application.attest",
        "application.start_statutory_check",
        "statutory.assessed",
        "statutory.assessed",
        "application.clear",
        "application.approve",
        "application.schedule_payout",
        "application.confirm_paid",
        "application.close",
    ]
    items = list(app.items.order_by("position"))
    assert [str(i.approved_amount.amount) for i in items] == ["1500.00", "800.00"]
    assert available_transitions(app, actor=world.officer) == []
