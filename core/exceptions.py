"""Domain errors with messages a fund officer understands (translated with Django i18n)."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied


class WorkflowError(Exception):
    """Base of every refusal the services make; ``messages`` are shown to people as is."""

    status_code = 400

    def __init__(self, messages: str | Iterable[str]):
        self.messages = [str(messages)] if isinstance(messages, str) else [str(m) for m in messages]
        super().__init__("; ".join(self.messages))


class PermissionDenied(WorkflowError, DjangoPermissionDenied):
    """The user's role or case scope does not allow the action."""

    status_code = 403


class ConflictError(WorkflowError):
    """The application changed since the user loaded it (another transition won)."""

    status_code = 409


class ValidationFailed(WorkflowError):
    """Input or preconditions are not met; ``messages`` lists every problem found."""

    status_code = 400


class TransitionNotAvailable(WorkflowError):
    """The transition does not exist from the application's current state."""

    status_code = 400
