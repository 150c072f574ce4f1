"""Which tables the database keeps append-only, named once: on the models themselves.

The triggers that refuse UPDATE and DELETE are schema history (each migration installs its
own statements); the grants the application role receives are not, and must follow every new
append-only table at once. ``make migrate-prod`` revokes UPDATE, DELETE and TRUNCATE on every
table of a model marked :class:`AppendOnly`, and the production check refuses to start while
the application's role could still change one of them.
"""

from __future__ import annotations

from django.apps import apps


class AppendOnly:
    """Marks a model whose rows are only ever inserted (the database refuses the rest)."""


def append_only_tables() -> tuple[str, ...]:
    """The tables of every model marked :class:`AppendOnly`, sorted."""
    return tuple(
        sorted(model._meta.db_table for model in apps.get_models() if issubclass(model, AppendOnly))
    )
