from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IncidentsConfig(AppConfig):
    name = "taspa.incidents"
    label = "incidents"
    verbose_name = _("Incidents and acts")

    def ready(self) -> None:
        from taspa.courts.selectors import HEARING_DETAIL_PARTS
        from taspa.incidents.selectors import incidents_part

        HEARING_DETAIL_PARTS.append(incidents_part)
