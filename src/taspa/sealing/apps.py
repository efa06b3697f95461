from datetime import timedelta

from django.apps import AppConfig


class SealingConfig(AppConfig):
    name = "taspa.sealing"
    label = "sealing"

    def ready(self) -> None:
        from taspa.jobs.policy import Schedule
        from taspa.jobs.registry import register_periodic
        from taspa.sealing.fixity import fixity_job
        from taspa.sealing.proofs import overdue_job
        from taspa.sealing.resume import resume_job
        from taspa.sealing.revocation_queue import revocation_job
        from taspa.sealing.timestamp_queue import timestamps_job

        # R19, R20: a rolling re-hash of stored recordings, a slice every 10 minutes.
        register_periodic("fixity", Schedule(every=timedelta(minutes=10)), fixity_job)
        # R14: RFC 3161 timestamps the TSA could not give at sealing time.
        register_periodic("timestamps", Schedule(every=timedelta(minutes=5)), timestamps_job)
        # R14, CAdES-LT: revocation evidence the CA's OCSP responder / CRL could not give.
        register_periodic("revocation", Schedule(every=timedelta(minutes=5)), revocation_job)
        # R14: a proof (timestamp, revocation evidence) waiting too long opens an incident.
        register_periodic("proofs.overdue", Schedule(every=timedelta(minutes=15)), overdue_job)
        # R14: a seal a crash left half-done, or one that waited for a key, is finished.
        register_periodic("sealing.resume", Schedule(every=timedelta(minutes=5)), resume_job)
