from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("Audit log")

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Group
        from django.contrib.auth.signals import user_login_failed
        from django.db.models.signals import m2m_changed, post_save, pre_save

        from audit import receivers

        user = get_user_model()
        uid = "audit."
        user_login_failed.connect(receivers.on_login_failed, dispatch_uid=uid + "login_failed")
        m2m_changed.connect(
            receivers.on_user_groups_changed, sender=user.groups.through, dispatch_uid=uid + "ug"
        )
        m2m_changed.connect(
            receivers.on_user_permissions_changed,
            sender=user.user_permissions.through,
            dispatch_uid=uid + "up",
        )
        m2m_changed.connect(
            receivers.on_group_permissions_changed,
            sender=Group.permissions.through,
            dispatch_uid=uid + "gp",
        )
        pre_save.connect(receivers.before_user_saved, sender=user, dispatch_uid=uid + "user_pre")
        post_save.connect(receivers.on_user_saved, sender=user, dispatch_uid=uid + "user_post")
