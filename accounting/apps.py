from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountingConfig(AppConfig):
    name = "accounting"
    verbose_name = _("Accounting")

    def ready(self) -> None:
        from accounting import reference_data, workflow_hooks
        from accounting.restricted_funds import restricted_funds_account_problem
        from fund.models import register_restricted_account_check

        reference_data.connect()
        workflow_hooks.subscribe()
        register_restricted_account_check(restricted_funds_account_problem)
