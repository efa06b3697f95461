"""Playback of a sealed recording: waveform from precomputed peaks, marks and pauses on the
timeline, renditions streamed with HTTP Range, the signature verdict (R12–R14, R19)."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from taspa.api.ranges import ranged_file_response
from taspa.errors import DomainError
from taspa.recorder.actions import audit_recording_read
from taspa.recorder.models import Recording
from taspa.recorder.selectors import effective_marks, pause_list
from taspa.web.actions import verify_now
from taspa.web.playback import PlaybackFiles, read_json
from taspa.web.selectors import pause_labels, playable_recording
from taspa.web.verify_report import moment_text, report_rows

# R2 п.2: the purposes a member of staff reads a recording for, as the select offers them.
PURPOSE_CHOICES = (
    ("proceedings", _("For the proceedings in the case")),
    ("facts", _("To establish facts")),
    ("disciplinary", _("For a disciplinary case")),
)

CONTENT_TYPES = {".webm": "audio/webm", ".mp4": "video/mp4", ".json": "application/json"}


def _sealed(request: HttpRequest, recording_id: int) -> Recording:
    recording = playable_recording(request.user, recording_id)
    if recording is None:
        raise Http404
    return recording


def _media_time(recording: Recording, moment) -> float:
    return max(0.0, (moment - recording.started_at).total_seconds())


def _pauses(recording: Recording) -> list[dict]:
    """Pauses on the media timeline: media time is wall time since the start (R6), so a pause
    sits at its wall-clock distance from the recording's start."""
    labels = pause_labels()
    return [
        {
            "label": labels.get(p["reason"], p["reason"]),
            "start": _media_time(recording, p["started_at"]),
            "end": _media_time(recording, p["ended_at"] or p["started_at"]),
        }
        for p in pause_list(recording)
    ]


@login_required
@require_GET
def recording_page(request: HttpRequest, recording_id: int) -> HttpResponse:
    recording = _sealed(request, recording_id)
    purpose = request.GET.get("purpose") or ""
    try:  # R2: a staff playback is on record with its purpose (the same rule as the API's)
        audit_recording_read(
            actor=request.user,
            recording=recording,
            channel="web",
            purpose=purpose,
            read="playback",
        )
    except DomainError:
        raise Http404 from None
    files = PlaybackFiles.of(recording.pk)
    info = read_json(files.info)
    marks = effective_marks(recording)
    verdict = read_json(files.verdict)
    context = {
        "recording": recording,
        "hearing": recording.hearing,
        "purpose": purpose,
        "purpose_choices": PURPOSE_CHOICES,
        "info": info,
        "tracks": [(f"track-{n}.webm", name) for n, name in enumerate(info["tracks"])]
        if info and len(info["tracks"]) > 1
        else [],
        "verdict": verdict,
        "checks": report_rows(verdict),
        "checked_at": moment_text(verdict["checked_at"]) if verdict else "",
        "marks": marks,
        "speakers": sorted({m["speaker"] for m in marks}),
        "timeline": {
            # On the waveform the name alone: marks seconds apart must not cover each other.
            "marks": [{"time": m["offset_s"], "label": m["speaker"]} for m in marks],
            "pauses": _pauses(recording),
        },
    }
    return render(request, "web/recording.html", context)


@login_required
@require_POST
def verify(request: HttpRequest, recording_id: int) -> HttpResponse:
    """Verify the sealed files again, now (the page shows when the verdict was made)."""
    verify_now(_sealed(request, recording_id))
    return redirect("web:recording", recording_id=recording_id)


PLAYBACK_FILES = {"peaks.json", "mix.webm", "video.mp4"} | {f"track-{n}.webm" for n in range(32)}


@login_required
@require_GET
def playback_file(request: HttpRequest, recording_id: int, name: str) -> HttpResponse:
    """A derived file, with HTTP Range for the players (hours of audio, seeked anywhere)."""
    if name not in PLAYBACK_FILES:
        raise Http404
    path = PlaybackFiles.of(_sealed(request, recording_id).pk).root / name
    if not path.exists():
        raise Http404
    content_type = CONTENT_TYPES[Path(name).suffix]
    if name == "peaks.json":
        return FileResponse(path.open("rb"), content_type=content_type)
    return ranged_file_response(request, path, content_type)
