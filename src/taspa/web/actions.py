"""Writes the web layer makes: the user's language, and the derived playback files."""

from __future__ import annotations

from typing import Any

from taspa.courts.models import User
from taspa.recorder.models import Recording
from taspa.sealing.reading import SealedBytesRefused, checked_copy
from taspa.web.playback import PlaybackFiles, make_playback_files, store_verdict


def remember_language(*, actor: User, language: str) -> None:
    """A personal preference, not a court record: no audit event."""
    if actor.language != language:
        actor.language = language
        actor.save(update_fields=["language"])


def microphone_names(recording: Recording) -> list[str]:
    """Track n of the original is the courtroom's audio source n (the recorder's order)."""
    sources = recording.hearing.courtroom.sources or []
    audio = [s for s in sources if s.get("kind") == "audio"]
    return [s.get("label") or s.get("input", "")[:40] for s in audio]


def prepare_playback(recording: Recording) -> PlaybackFiles:
    """Derive the playback files of a sealed recording once, and check its signature once.
    Derived files are no court record: the sealed original stays the evidence (ADR 0008)."""
    names = microphone_names(recording)
    files = PlaybackFiles.of(recording.pk)
    if not files.ready:
        # Derived from the sealed bytes as the store holds them, checked as they are copied.
        with checked_copy(recording, ["media"]) as sealed:
            files = make_playback_files(sealed.media, recording.pk, names, recording.duration_s)
    if not files.verdict.exists():
        verify_now(recording)
    return files


def verify_now(recording: Recording) -> dict[str, Any]:
    """Run the full verification of the sealed files (R14, R19) and keep its verdict."""
    from taspa.sealing.verify import Check, UnreadableInput, verify_recording

    try:
        # The files a user would download (media, signatures, manifest, journal), from the
        # store; a blob that fails its digest is a failed check, and an incident (R19, R20).
        with checked_copy(recording) as sealed:
            checks = verify_recording(sealed.media)
    except SealedBytesRefused as error:
        checks = [Check("stored_bytes", False, error.detail, "stored_bytes_refused")]
    except UnreadableInput as error:
        checks = [Check("readable", False, str(error), "unreadable_input")]
    return store_verdict(PlaybackFiles.of(recording.pk), checks)
