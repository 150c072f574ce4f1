from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CofinancingConfig(AppConfig):
    name = "cofinancing"
    verbose_name = _("Co-financed projects")

    def ready(self) -> None:
        from accounting.year_end import register_closing_check
        from cofinancing.year_end_checks import co_financing_not_accrued

        register_closing_check(co_financing_not_accrued)
