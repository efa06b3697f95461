from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CourtsConfig(AppConfig):
    name = "taspa.courts"
    label = "courts"
    verbose_name = _("Courts, cases and hearings")

    def ready(self) -> None:
        from taspa.courts import permissions

        permissions.register()
