"""Kinds of incidents and the text the secretary reads to the participants (R9, R10, R16, R17)."""

from __future__ import annotations

import enum


class IncidentKind(enum.StrEnum):
    RECORDING_IMPOSSIBLE = "recording_impossible"  # R9: reported by the secretary
    PREFLIGHT_FAILED = "preflight_failed"  # R8 check failed; the hearing may go on (R10)
    CAPTURE_GAP = "capture_gap"  # R6: any stop that is not a lawful pause is a break
    SOURCE_LOST = "source_lost"
    DISK_FULL = "disk_full"
    SIGNING_FAILED = "signing_failed"  # R14 could not be done automatically
    NOT_RECORDED = "not_recorded"  # R17: it turned out the hearing was not recorded
    FIXITY_FAILED = "fixity_failed"  # R19, R20: a stored recording no longer matches its hash


# Kinds a person may report by hand; the others come from the recorder itself.
REPORTABLE_KINDS = (IncidentKind.RECORDING_IMPOSSIBLE, IncidentKind.SOURCE_LOST)


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
