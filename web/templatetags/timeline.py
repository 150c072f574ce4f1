"""The case timeline's parts: the steps, and the reads of the person's data apart from them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import template

from workflows.decision_trail import TrailRow, split_personal_data_reads

register = template.Library()


@register.filter
def timeline_parts(rows: Iterable[TrailRow] | None) -> dict[str, Any]:
    """``{"steps": [...], "reads": [...]}`` so the template can collapse the reads."""
    steps, reads = split_personal_data_reads(list(rows or ()))
    return {"steps": steps, "reads": reads}
