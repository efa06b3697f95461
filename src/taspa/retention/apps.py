from datetime import timedelta

from django.apps import AppConfig


class RetentionConfig(AppConfig):
    name = "taspa.retention"
    label = "retention"

    def ready(self) -> None:
        from taspa.courts.selectors import HEARING_DETAIL_PARTS
        from taspa.jobs.policy import Schedule
        from taspa.jobs.registry import register_periodic
        from taspa.recorder.signals import recording_sealed
        from taspa.retention import signals
        from taspa.retention.selectors import hearing_retention_part
        from taspa.retention.transfer import sweep_daily

        recording_sealed.connect(_sealed, dispatch_uid="retention.sealed")
        signals.connect()  # R23, R24, R27: the centre's replicas get their clock
        if hearing_retention_part not in HEARING_DETAIL_PARTS:
            HEARING_DETAIL_PARTS.append(hearing_retention_part)
        # R27: daily; the sweep only moves what is past its date, so running it more often
        # than daily changes nothing.
        register_periodic("retention.sweep", Schedule(every=timedelta(hours=24)), sweep_daily)


def _sealed(sender, recording, **kwargs) -> None:
    from taspa.retention.actions import on_recording_sealed

    on_recording_sealed(recording)
