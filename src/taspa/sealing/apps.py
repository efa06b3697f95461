from datetime import timedelta

from django.apps import AppConfig


class SealingConfig(AppConfig):
    name = "taspa.sealing"
    label = "sealing"

    def ready(self) -> None:
        from taspa.jobs.policy import Schedule
        from taspa.jobs.registry import register_periodic
        from taspa.sealing.fixity import fixity_job

        # R19, R20: a rolling re-hash of stored recordings, a slice every 10 minutes.
        register_periodic("fixity", Schedule(every=timedelta(minutes=10)), fixity_job)
