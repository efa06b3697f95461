from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpsConfig(AppConfig):
    name = "taspa.ops"
    label = "ops"
    verbose_name = _("Operations: health, readiness, metrics, logs")

    def ready(self) -> None:
        from taspa.ops import joblog

        joblog.connect()
