"""Kinds of incidents and the text the secretary reads to the participants (R9, R10, R16, R17)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class IncidentKind(enum.StrEnum):
    RECORDING_IMPOSSIBLE = "recording_impossible"  # R9: reported by the secretary
    PREFLIGHT_FAILED = "preflight_failed"  # R8 check failed; the hearing may go on (R10)
    CAPTURE_GAP = "capture_gap"  # R6: any stop that is not a lawful pause is a break
    SOURCE_LOST = "source_lost"
    DISK_FULL = "disk_full"
    SIGNING_FAILED = "signing_failed"  # R14 could not be done automatically
    NOT_RECORDED = "not_recorded"  # R17: it turned out the hearing was not recorded
    FIXITY_FAILED = "fixity_failed"  # R19, R20: a stored recording no longer matches its hash
    TIMESTAMP_FAULT = "timestamp_fault"  # R19: a track's clock jumped (repaired or restarted)


# Kinds a person may report by hand; the others come from the recorder itself.
REPORTABLE_KINDS = (IncidentKind.RECORDING_IMPOSSIBLE, IncidentKind.SOURCE_LOST)

# R17: «…протоколирование с использованием средств аудио-, видеозаписи невозможно либо
# выявлено, что аудио-, видеозапись … фактически не осуществлялась, составляется акт». These two
# kinds always get an act, drawn up by Taspa itself once the hearing is over; the other kinds
# go into an act only when a signer draws one up. The same two put the reason in the minutes (R9).
ACT_KINDS = (IncidentKind.RECORDING_IMPOSSIBLE, IncidentKind.NOT_RECORDED)


def announcement_text(language: str) -> str:
    """What the secretary reads aloud when recording can no longer continue (R16)."""
    if language == "ru":
        return (
            "Уважаемые участники процесса! По техническим причинам аудио-, видеозапись "
            "судебного заседания продолжаться не может. Судебное заседание продолжается; "
            "причина будет отражена в протоколе судебного заседания."
        )
    if language == "kk":
        return (
            "Құрметті процеске қатысушылар! Техникалық себептерге байланысты сот отырысының "
            "аудио-, бейнежазбасын жалғастыру мүмкін емес. Сот отырысы жалғасады; себебі "
            "сот отырысының хаттамасында көрсетіледі."
        )
    return (
        "Participants, for technical reasons the audio/video recording of this hearing cannot "
        "continue. The hearing goes on; the reason will be entered in the minutes."
    )


# --- who signs an act (R18) ----------------------------------------------------------------------

# Roles as the courts area names them (courts.policy.Role values); kept as plain strings so this
# module stays free of Django and of other apps.
SECRETARY, COURT_ADMIN = "secretary", "court_admin"
REGIONAL_HEAD, REGIONAL_STAFF = "regional_head", "regional_staff"

# R18: first instance — the secretary and the court administrator; appeal — the secretary, the
# head and a staff member of the regional judicial administration unit. The order is the order
# of the signature lines on the act.
ACT_SIGNERS = {
    "first": (SECRETARY, COURT_ADMIN),
    "appeal": (SECRETARY, REGIONAL_HEAD, REGIONAL_STAFF),
}


def act_signer_roles(instance: str) -> tuple[str, ...]:
    """The roles that must sign an act for a hearing of ``instance`` (R18).

    The Rules name signers for the first instance and appeal only; cassation and the Supreme
    Court keep no minutes (R5), so their acts are signed as at first instance: the secretary and
    the administrator of the court that held the hearing.
    """
    return ACT_SIGNERS.get(instance, ACT_SIGNERS["first"])


class ActStatus(enum.StrEnum):
    PENDING = "pending"  # some required signature is missing
    COMPLETE = "complete"  # every required role signed; attached to the minutes (R18)


def act_status(required: tuple[str, ...] | list[str], signed: set[str]) -> ActStatus:
    return ActStatus.COMPLETE if set(required) <= set(signed) else ActStatus.PENDING


# --- R17: was the hearing actually recorded? -----------------------------------------------------

# The level meter's threshold (recorder/levels.py): a 0.1 s block louder than this carries signal.
SIGNAL_DBFS = -60.0
BLOCK_S = 0.1
ANALYSIS_RATE = 8000  # Hz: enough to tell speech from silence, cheap for an 8-hour file


@dataclass(frozen=True)
class CoverageFacts:
    """What analysis of one hearing's recording found (all seconds)."""

    expected_s: float  # wall time from start to stop, less lawful pauses (R6)
    covered_s: float  # seconds of audio actually decodable from the media
    loudest_dbfs: float | None  # loudest 0.1 s block over every channel; None: no audio at all


class NotRecordedReason(enum.StrEnum):
    NO_RECORDING = "no_recording"
    SHORT = "short_coverage"
    SILENT = "silent"


@dataclass(frozen=True)
class RecordedVerdict:
    ok: bool
    reason: NotRecordedReason | None
    detail: str


def recorded_verdict(facts: CoverageFacts | None, *, tolerance_s: float) -> RecordedVerdict:
    """R17: a hearing counts as not recorded when there is no recording, when the recording
    covers less than the hearing's duration by more than ``tolerance_s``, or when every channel
    is silent throughout (no 0.1 s block above SIGNAL_DBFS)."""
    if facts is None:
        return RecordedVerdict(False, NotRecordedReason.NO_RECORDING, "There is no recording.")
    missing = facts.expected_s - facts.covered_s
    if missing > tolerance_s:
        return RecordedVerdict(
            False,
            NotRecordedReason.SHORT,
            f"The recording covers {facts.covered_s:.0f} s of the {facts.expected_s:.0f} s the "
            f"hearing was recorded for ({missing:.0f} s missing; tolerance {tolerance_s:.0f} s).",
        )
    if facts.loudest_dbfs is None or facts.loudest_dbfs <= SIGNAL_DBFS:
        loudest = "no audio" if facts.loudest_dbfs is None else f"{facts.loudest_dbfs:.1f} dBFS"
        return RecordedVerdict(
            False,
            NotRecordedReason.SILENT,
            f"Every channel is silent throughout (loudest 0.1 s: {loudest}; signal needs more "
            f"than {SIGNAL_DBFS:.0f} dBFS).",
        )
    return RecordedVerdict(True, None, "Recorded.")


def expected_seconds(
    started_at: datetime, stopped_at: datetime, pauses: list[tuple[datetime, datetime | None]]
) -> float:
    """Seconds the hearing was to be on record: start to stop, less lawful pauses (R6)."""
    total = (stopped_at - started_at).total_seconds()
    for start, end in pauses:
        total -= ((end or stopped_at) - start).total_seconds()
    return max(total, 0.0)
