from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = _("Workflow")

    def ready(self) -> None:
        from workflows import (
            checks,  # noqa: F401 - registers the transition-rule check
            step_hooks,
        )
        from workflows.services.assessment import follow_up_problems

        step_hooks.guard("close", follow_up_problems)
