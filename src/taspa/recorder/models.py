"""A hearing's recording, its speaker marks, lawful pauses and equipment checks (R6–R8, R12–R14)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from taspa.courts.models import Hearing


class Recording(models.Model):
    """The one continuous record of a hearing; media bytes live in the spool, then the store."""

    class State(models.TextChoices):
        CAPTURING = "capturing", _("capturing")
        STOPPED = "stopped", _("stopped, not yet sealed")
        SEALED = "sealed", _("sealed")

    hearing = models.OneToOneField("courts.Hearing", models.PROTECT, related_name="recording")
    # The hearing's court, copied here when the recording is created (``save``, the one rule): a
    # search tests who may see a recording on its own row, not through hearing → case → court.
    court = models.ForeignKey("courts.Court", models.PROTECT, related_name="+", editable=False)
    state = models.CharField(max_length=16, choices=State.choices, default=State.CAPTURING)
    spool_dir = models.CharField(max_length=500)
    started_at = models.DateTimeField()
    stopped_at = models.DateTimeField(null=True, blank=True)
    container = models.CharField(max_length=32, blank=True)
    command = models.JSONField(default=list, blank=True)  # provenance: the exact ffmpeg argv
    file_name = models.CharField(_("file name"), max_length=255, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    bytes = models.PositiveBigIntegerField(null=True, blank=True)
    duration_s = models.FloatField(null=True, blank=True)
    chain_head = models.CharField(max_length=64, blank=True)
    pieces = models.PositiveIntegerField(null=True, blank=True)
    # Until sealed: the captured file to seal (the spool's, or an agent's upload). Never read
    # once sealed: every sealed byte is read from the blob store by digest (STYLE 14).
    media_path = models.CharField(max_length=500, blank=True)
    signature_digest = models.CharField(max_length=64, blank=True)
    manifest_digest = models.CharField(max_length=64, blank=True)
    manifest_signature_digest = models.CharField(max_length=64, blank=True)
    journal_digest = models.CharField(max_length=64, blank=True)  # the segment journal's blob
    # R7, R14: who operated the recorder (started it, then whoever ended the recording): the
    # secretary «of the hearing» whose EDS signs it — the stand-in when one recorded.
    operated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    signer_subject = models.CharField(max_length=500, blank=True)
    sealed_at = models.DateTimeField(null=True, blank=True)
    # When the media and its signatures were taken into the blob store (TASPA_STORAGE); None
    # while they are not there: before sealing, and once R27 moved them to the archive.
    stored_at = models.DateTimeField(null=True, blank=True)
    # The rolling fixity job's last look at the stored blobs (R19, R20).
    fixity_checked_at = models.DateTimeField(null=True, blank=True)
    fixity_ok = models.BooleanField(null=True)

    class Meta:
        verbose_name = _("recording")
        verbose_name_plural = _("recordings")
        indexes = [
            # The fixity queue: the never checked (NULL, by id), then the longest unchecked; only
            # what is in the store, so recordings moved to the archive (R27) are not walked over.
            models.Index(
                fields=["fixity_checked_at", "id"],
                name="recording_fixity_queue",
                condition=models.Q(state="sealed", stored_at__isnull=False),
            ),
            # The search across recordings (#16): sealed recordings newest first, a court's or
            # every court's, with what it tests on each (its court, its hearing) in the index.
            models.Index(
                fields=["court", "started_at", "id"],
                include=["hearing"],
                name="recording_court_started",
                condition=models.Q(state="sealed"),
            ),
            models.Index(
                fields=["started_at", "id"],
                include=["court", "hearing"],
                name="recording_sealed_court",
                condition=models.Q(state="sealed"),
            ),
        ]

    def __str__(self) -> str:
        return self.file_name or f"recording of hearing {self.hearing_id}"

    def save(self, *args, **kwargs) -> None:
        if self.court_id is None:
            self.court_id = recording_court(self.hearing_id)
        super().save(*args, **kwargs)


def recording_court(hearing_id: int) -> int:
    """The court a hearing's recording belongs to: its case's (``Recording.court``)."""
    return Hearing.objects.values_list("case__court_id", flat=True).get(pk=hearing_id)


class Mark(models.Model):
    """R12: a speaker mark. A correction is a new mark that supersedes, never an edit."""

    recording = models.ForeignKey(Recording, models.PROTECT, related_name="marks")
    speaker = models.CharField(_("speaker"), max_length=255)
    role = models.CharField(_("procedural role"), max_length=64)
    offset_s = models.FloatField(_("media offset, s"))
    at = models.DateTimeField(_("wall-clock time"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    supersedes = models.OneToOneField(
        "self", models.PROTECT, null=True, blank=True, related_name="superseded_by"
    )

    class Meta:
        ordering = ["offset_s", "id"]
        verbose_name = _("speaker mark")
        verbose_name_plural = _("speaker marks")

    def __str__(self) -> str:
        return f"{self.offset_s:.1f}s {self.speaker}"


class Pause(models.Model):
    """R6: a lawful stop, from the announcement of an adjournment, recess or deliberation."""

    recording = models.ForeignKey(Recording, models.PROTECT, related_name="pauses")
    reason = models.CharField(_("reason"), max_length=16)
    announced_at = models.DateTimeField(_("announced at"))
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")

    class Meta:
        ordering = ["started_at"]
        verbose_name = _("pause")
        verbose_name_plural = _("pauses")

    def __str__(self) -> str:
        return f"{self.reason} @ {self.started_at:%H:%M:%S}"


class Preflight(models.Model):
    """R8: the equipment check before the hearing, kept with the hearing."""

    hearing = models.ForeignKey("courts.Hearing", models.PROTECT, related_name="preflights")
    at = models.DateTimeField()
    ok = models.BooleanField()
    checks = models.JSONField(default=list)
    run_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-at"]
        verbose_name = _("equipment check")
        verbose_name_plural = _("equipment checks")

    def __str__(self) -> str:
        return f"preflight {'ok' if self.ok else 'FAILED'} @ {self.at:%Y-%m-%d %H:%M}"


class AgentRegistration(models.Model):
    """A courtroom whose capture runs on its own PC: the ``taspa recorder`` agent there records
    into a local spool and forwards it to this server (store-and-forward, ADR 0004)."""

    courtroom = models.OneToOneField(
        "courts.Courtroom", models.PROTECT, related_name="recorder_agent"
    )
    token_digest = models.CharField(max_length=64, unique=True)
    token_prefix = models.CharField(max_length=16)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    clock_offset_s = models.FloatField(null=True, blank=True)  # agent clock − server clock
    preflight = models.JSONField(default=list, blank=True)  # the agent's last own checks
    preflight_at = models.DateTimeField(null=True, blank=True)
    levels = models.JSONField(default=dict, blank=True)  # R11: the latest levels it sent
    levels_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("recorder agent")
        verbose_name_plural = _("recorder agents")

    def __str__(self) -> str:
        return f"agent {self.token_prefix} for courtroom {self.courtroom_id}"


class AgentCommand(models.Model):
    """What the secretary asked of a remote recorder, queued until its agent collects it."""

    agent = models.ForeignKey(AgentRegistration, models.PROTECT, related_name="commands")
    hearing = models.ForeignKey("courts.Hearing", models.PROTECT, related_name="+")
    verb = models.CharField(max_length=16)  # start | pause | resume | stop | preflight
    args = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.verb} hearing {self.hearing_id}"


class AgentEvent(models.Model):
    """Everything an agent reported, once each (its own sequence number makes a resend after a
    lost answer harmless), with the time it happened on the agent."""

    agent = models.ForeignKey(AgentRegistration, models.PROTECT, related_name="events")
    seq = models.PositiveBigIntegerField()
    hearing = models.ForeignKey(
        "courts.Hearing", models.PROTECT, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=32)
    at = models.DateTimeField()
    data = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["agent", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["agent", "seq"], name="recorder_agent_event_once")
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.seq}"


class CaptureLease(models.Model):
    """Which server process owns a hearing's capture (its ffmpeg and spool) right now.

    ``owner`` is ``host:pid:boot-id``; the owner renews ``heartbeat_at`` every few seconds. A
    lease whose heartbeat expired, or whose owner is a dead process of this host, is taken over
    with a conditional UPDATE, so one process at a time runs a hearing's capture."""

    hearing = models.OneToOneField(
        "courts.Hearing", models.PROTECT, primary_key=True, related_name="capture_lease"
    )
    owner = models.CharField(max_length=200)
    acquired_at = models.DateTimeField()
    heartbeat_at = models.DateTimeField()
    # R11: the owner's latest meter reading, so a console served by any web process moves.
    levels = models.JSONField(default=dict, blank=True)
    levels_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("capture lease")
        verbose_name_plural = _("capture leases")

    def __str__(self) -> str:
        return f"hearing {self.hearing_id} owned by {self.owner}"


class CaptureCommand(models.Model):
    """A pause/resume/stop/mark that reached a process which does not own the hearing's capture:
    queued here for the owner, who carries it out and writes the outcome (as AgentCommand does
    for courtroom agents)."""

    hearing = models.ForeignKey("courts.Hearing", models.PROTECT, related_name="+")
    verb = models.CharField(max_length=16)  # pause | resume | stop | mark
    args = models.JSONField(default=dict, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    taken_by = models.CharField(max_length=200, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    outcome = models.JSONField(default=dict, blank=True)  # {"ok": …} or {"error", "detail", …}

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["hearing", "id"],
                name="capture_command_open",
                condition=models.Q(done_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.verb} hearing {self.hearing_id}"


class ClosedPortion(models.Model):
    """R32 for part of a hearing: from the court's announcement that the hearing continues in
    closed session until it reopens. Copies and a participant's online playback leave it out;
    the sealed original keeps it (a closed portion never shortens what the court keeps).

    Times are wall-clock moments and the same moments on the media timeline (seconds from the
    first sample, as a mark's ``offset_s``: pauses are timestamp gaps, R6). ``end`` is written
    once; any other change is a new portion that supersedes, never an edit (as marks, R12)."""

    class Source(models.TextChoices):
        LIVE = "live", _("marked live by the secretary")
        JUDGE_DECISION = "judge_decision", _("the judge's decision after sealing")

    hearing = models.ForeignKey("courts.Hearing", models.PROTECT, related_name="closed_portions")
    recording = models.ForeignKey(Recording, models.PROTECT, related_name="closed_portions")
    start_at = models.DateTimeField(_("closed from"))
    end_at = models.DateTimeField(_("reopened at"), null=True, blank=True)
    start_s = models.FloatField(_("media offset of the start, s"))
    end_s = models.FloatField(_("media offset of the end, s"), null=True, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices)
    reason = models.TextField(_("reason or decision"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    ended_recorded_at = models.DateTimeField(null=True, blank=True)
    supersedes = models.OneToOneField(
        "self", models.PROTECT, null=True, blank=True, related_name="superseded_by"
    )

    class Meta:
        ordering = ["start_s", "id"]
        verbose_name = _("closed portion")
        verbose_name_plural = _("closed portions")

    def __str__(self) -> str:
        end = "…" if self.end_s is None else f"{self.end_s:.1f}s"
        return f"closed {self.start_s:.1f}s–{end}"
