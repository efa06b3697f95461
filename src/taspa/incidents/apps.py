from datetime import timedelta

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IncidentsConfig(AppConfig):
    name = "taspa.incidents"
    label = "incidents"
    verbose_name = _("Incidents and acts")

    def ready(self) -> None:
        from taspa.courts.selectors import HEARING_DETAIL_PARTS
        from taspa.incidents import receivers
        from taspa.incidents.detection import check_overdue
        from taspa.incidents.selectors import incidents_part
        from taspa.jobs.policy import Schedule
        from taspa.jobs.registry import register_periodic
        from taspa.recorder.signals import recording_stopped

        HEARING_DETAIL_PARTS.append(incidents_part)
        recording_stopped.connect(receivers.on_recording_stopped, dispatch_uid="incidents.r9_r17")
        # R17 for hearings that never started, and checks a crash lost; R9 notices still due.
        register_periodic("incidents.overdue", Schedule(every=timedelta(minutes=15)), check_overdue)
