from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccessConfig(AppConfig):
    name = "taspa.access"
    label = "access"
    verbose_name = _("Access to recordings")

    def ready(self) -> None:
        from taspa.access.tasks import register

        register()
