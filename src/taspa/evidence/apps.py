from datetime import timedelta

from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    name = "taspa.evidence"
    label = "evidence"

    def ready(self) -> None:
        from taspa.evidence.tasks import build_job, renew_job
        from taspa.jobs.policy import Schedule
        from taspa.jobs.registry import register_periodic

        # Each past day's records (RFC 4998) in the first run after midnight. Hourly, not at a
        # fixed time: a TSA that was down is asked again within the hour, and a day that is
        # already built costs one query.
        register_periodic("evidence.build", Schedule(every=timedelta(hours=1)), build_job)
        # Archive timestamps renewed well before their TSA certificate expires (§5.2), and the
        # hash trees renewed when TASPA_EVIDENCE_HASH names a new algorithm (§5.3).
        register_periodic("evidence.renew", Schedule(every=timedelta(hours=24)), renew_job)
