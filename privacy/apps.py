from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    """Retention, erasure and subject access: they read every app's records of a person."""

    name = "privacy"
    verbose_name = _("Privacy")
