"""Replication state at both ends (R23).

At a court server: ``Outgoing`` (one row per recording: what changed, what the centre
acknowledged) and ``ReplicationRun`` (each run, for "last replicated").
At the centre: ``Peer`` (a court's credential), ``Replica`` (what a court sent, mirrored as a
Court/Case/Hearing/Recording so ``GET /recordings?court=CODE`` lists it), ``Alarm`` and
``Witness`` (the court's audit-chain head, countersigned by the centre).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from taspa.replication.policy import AlarmKind, OutgoingState, ReplicaState


def _choices(enum_type: type) -> list[tuple[str, str]]:
    return [(member.value, member.value) for member in enum_type]


class Outgoing(models.Model):
    """Court side: a recording to replicate. ``version`` grows with every change (seal, mark
    correction, incident, judgment date); the centre has acknowledged ``acked_version``."""

    recording = models.OneToOneField(
        "recorder.Recording", models.PROTECT, related_name="replication"
    )
    version = models.PositiveIntegerField(default=1)
    acked_version = models.PositiveIntegerField(default=0)
    pending = models.BooleanField(default=True)
    state = models.CharField(max_length=16, choices=_choices(OutgoingState), default="pending")
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    bytes_sent = models.PositiveBigIntegerField(default=0)
    remote_id = models.PositiveBigIntegerField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("outgoing replica")
        verbose_name_plural = _("outgoing replicas")
        indexes = [
            # The planner reads only pending rows: a partial index stays small at 10M rows.
            models.Index(
                fields=["id"], name="replication_outgoing_pending", condition=models.Q(pending=True)
            )
        ]

    def __str__(self) -> str:
        return f"recording {self.recording_id} v{self.version} ({self.state})"


class ReplicationRun(models.Model):
    """Court side: one replication run (daily or ``taspa replicate``)."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    sent = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    bytes = models.PositiveBigIntegerField(default=0)
    outcome = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("replication run")
        verbose_name_plural = _("replication runs")

    def __str__(self) -> str:
        return f"run {self.started_at:%Y-%m-%d %H:%M} sent {self.sent} failed {self.failed}"


class Peer(models.Model):
    """Centre side: a court allowed to push its own recordings, through its service user."""

    court = models.OneToOneField("courts.Court", models.PROTECT, related_name="replication_peer")
    user = models.OneToOneField(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    enrolled_at = models.DateTimeField()
    last_seen_at = models.DateTimeField(null=True, blank=True)
    last_acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("replicating court")
        verbose_name_plural = _("replicating courts")

    def __str__(self) -> str:
        return f"peer {self.court_id}"


class Replica(models.Model):
    """Centre side: one court recording, keyed by the court's own recording id."""

    court = models.ForeignKey("courts.Court", models.PROTECT, related_name="replicas")
    source_id = models.PositiveBigIntegerField()
    recording = models.OneToOneField(
        "recorder.Recording", models.PROTECT, null=True, blank=True, related_name="replica"
    )
    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    bytes = models.PositiveBigIntegerField()
    files = models.JSONField(default=dict)  # kind -> {sha256, bytes}
    offsets = models.JSONField(default=dict)  # kind -> verified bytes held
    # kind -> {key, upload_id, part_size, version_id?}: S3 multipart uploads (S3 centres)
    uploads = models.JSONField(default=dict, blank=True)
    metadata = models.JSONField(default=dict)
    metadata_version = models.PositiveIntegerField(default=0)
    state = models.CharField(max_length=16, choices=_choices(ReplicaState), default="receiving")
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("replica")
        verbose_name_plural = _("replicas")
        constraints = [
            models.UniqueConstraint(fields=["court", "source_id"], name="one_replica_per_source")
        ]
        indexes = [models.Index(fields=["court", "state"], name="replica_court_state")]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.state})"


class Alarm(models.Model):
    """Centre side: a court silent for too long, or a replica refused (R23)."""

    court = models.ForeignKey("courts.Court", models.PROTECT, related_name="replication_alarms")
    kind = models.CharField(max_length=16, choices=_choices(AlarmKind))
    detail = models.TextField()
    raised_at = models.DateTimeField()
    cleared_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-raised_at"]
        verbose_name = _("replication alarm")
        verbose_name_plural = _("replication alarms")

    def __str__(self) -> str:
        return f"{self.kind}: {self.detail}"


class Witness(models.Model):
    """Centre side: a court's audit-chain head as received, countersigned by the centre."""

    court = models.ForeignKey("courts.Court", models.PROTECT, related_name="witnesses")
    seq = models.PositiveBigIntegerField()
    hash = models.CharField(max_length=64)
    countersignature = models.CharField(max_length=64)
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["-seq"]
        verbose_name = _("audit witness")
        verbose_name_plural = _("audit witnesses")
        constraints = [
            models.UniqueConstraint(fields=["court", "seq"], name="one_witness_per_court_seq")
        ]

    def __str__(self) -> str:
        return f"{self.court_id}@{self.seq}"
