"""The recorder in the API (CONTRACT.md): preflight, start, marks, pause, resume, stop, levels,
and the sealed recordings. Thin: every rule lives in ``recorder.actions``."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils.translation import gettext_lazy as _
from ninja import Router, Schema, Status
from pydantic import Field

from taspa import limits
from taspa.api.ranges import ranged_stream_response
from taspa.api.types import Cursor, Id, Moment
from taspa.courts.api import visible_hearing
from taspa.courts.selectors import visible_hearings
from taspa.documents.render import OFFICIAL_LANGUAGES, render_pdf
from taspa.errors import Conflict, Gone, InvalidInput, NotFound
from taspa.recorder import actions, portions, runtime, selectors
from taspa.recorder.models import ClosedPortion, Mark, Recording
from taspa.sealing import reading
from taspa.sealing.layout import SealedRecording

router = Router(tags=["recorder"])


class MarkIn(Schema):
    speaker: str = Field(min_length=1, max_length=255)
    role: str = Field(min_length=1, max_length=64)
    at: Moment | None = None


class MarkCorrectionIn(Schema):
    speaker: str = Field(min_length=1, max_length=255)
    role: str = Field(min_length=1, max_length=64)


class PortionIn(Schema):
    start: Moment | None = None
    end: Moment | None = None
    reason: str = Field(default="", max_length=4000)


class PortionEndIn(Schema):
    at: Moment | None = None


class PortionCorrectionIn(Schema):
    start: Moment
    end: Moment | None = None
    reason: str = Field(default="", max_length=4000)


class PauseIn(Schema):
    reason: str
    announced_at: Moment | None = None


@router.post("/hearings/{hearing_id}/preflight")
def preflight(request: HttpRequest, hearing_id: Id):
    result = actions.run_preflight(actor=request.user, hearing=visible_hearing(request, hearing_id))
    return selectors.preflight_answer(result, getattr(request, "LANGUAGE_CODE", "ru"))


class StartIn(Schema):
    # R8: without a recent passing equipment check, the operator's reason to start anyway
    override_reason: str = Field(default="", max_length=limits.PREFLIGHT_OVERRIDE)


@router.post("/hearings/{hearing_id}/start")
def start(request: HttpRequest, hearing_id: Id, payload: StartIn | None = None):
    actions.start_recording(
        actor=request.user,
        hearing=visible_hearing(request, hearing_id),
        override_reason=payload.override_reason if payload else "",
    )
    return {"state": "recording"}


@router.post("/hearings/{hearing_id}/marks", response={201: dict})
def add_mark(request: HttpRequest, hearing_id: Id, payload: MarkIn):
    mark = actions.add_mark(
        actor=request.user,
        hearing=visible_hearing(request, hearing_id),
        speaker=payload.speaker,
        role=payload.role,
        at=payload.at,
    )
    return Status(201, {"id": mark.pk, "at": mark.at.isoformat(), "offset_s": mark.offset_s})


@router.post("/marks/{mark_id}/correct", response={201: dict})
def correct_mark(request: HttpRequest, mark_id: Id, payload: MarkCorrectionIn):
    mark = Mark.objects.filter(
        pk=mark_id, recording__hearing__in=visible_hearings(request.user)
    ).first()
    if mark is None:
        raise NotFound(_("No mark %(mark_id)s."), params={"mark_id": mark_id})
    fixed = actions.correct_mark(
        actor=request.user, mark=mark, speaker=payload.speaker, role=payload.role
    )
    return Status(201, {"id": fixed.pk, "supersedes": mark.pk})


@router.post("/hearings/{hearing_id}/pause")
def pause(request: HttpRequest, hearing_id: Id, payload: PauseIn):
    actions.pause_recording(
        actor=request.user,
        hearing=visible_hearing(request, hearing_id),
        reason=payload.reason,
        announced_at=payload.announced_at,
    )
    return {"state": "paused"}


@router.post("/hearings/{hearing_id}/resume")
def resume(request: HttpRequest, hearing_id: Id):
    actions.resume_recording(actor=request.user, hearing=visible_hearing(request, hearing_id))
    return {"state": "recording"}


@router.post("/hearings/{hearing_id}/stop")
def stop(request: HttpRequest, hearing_id: Id):
    recording = actions.stop_recording(
        actor=request.user, hearing=visible_hearing(request, hearing_id)
    )
    return {"recording": recording.pk, "state": recording.state, "file_name": recording.file_name}


# --- R32 for part of a hearing: closed portions ------------------------------------------------


def _portion(request: HttpRequest, hearing_id: int, portion_id: int) -> ClosedPortion:
    hearing = visible_hearing(request, hearing_id)
    portion = ClosedPortion.objects.filter(pk=portion_id, hearing=hearing).first()
    if portion is None:
        raise NotFound(
            _("No closed portion %(portion_id)s in hearing %(hearing_id)s."),
            params={"portion_id": portion_id, "hearing_id": hearing_id},
        )
    return portion


@router.get("/hearings/{hearing_id}/closed-portions")
def list_portions(request: HttpRequest, hearing_id: Id):
    hearing = visible_hearing(request, hearing_id)
    return {"items": [selectors.portion_answer(p) for p in selectors.current_portions(hearing)]}


@router.post("/hearings/{hearing_id}/closed-portions", response={201: dict})
def add_portion(request: HttpRequest, hearing_id: Id, payload: PortionIn):
    portion = portions.add_portion(
        actor=request.user,
        hearing=visible_hearing(request, hearing_id),
        start=payload.start,
        end=payload.end,
        reason=payload.reason,
    )
    return Status(201, selectors.portion_answer(portion))


@router.post("/hearings/{hearing_id}/closed-portions/{portion_id}/end")
def end_portion(request: HttpRequest, hearing_id: Id, portion_id: Id, payload: PortionEndIn):
    portion = portions.end_portion(
        actor=request.user, portion=_portion(request, hearing_id, portion_id), at=payload.at
    )
    return selectors.portion_answer(portion)


@router.post("/hearings/{hearing_id}/closed-portions/{portion_id}/correct", response={201: dict})
def correct_portion(
    request: HttpRequest, hearing_id: Id, portion_id: Id, payload: PortionCorrectionIn
):
    fixed = portions.correct_portion(
        actor=request.user,
        portion=_portion(request, hearing_id, portion_id),
        start=payload.start,
        end=payload.end,
        reason=payload.reason,
    )
    return Status(201, selectors.portion_answer(fixed))


def _staff_hearing(request: HttpRequest, hearing_id: int):
    """The hearing for court staff only, as the console sees it (R7, R11): the live levels are
    the console's, and a party to the hearing gets the 404 the console gives them."""
    hearing = visible_hearings(request.user, as_party=False).filter(pk=hearing_id).first()
    if hearing is None:
        raise NotFound(_("No hearing %(hearing_id)s."), params={"hearing_id": hearing_id})
    return hearing


@router.get("/hearings/{hearing_id}/levels")
def levels(request: HttpRequest, hearing_id: Id):
    hearing = _staff_hearing(request, hearing_id)
    return selectors.levels_answer(hearing.pk)


@router.get("/hearings/{hearing_id}/levels/stream")
def levels_stream(request: HttpRequest, hearing_id: Id, seconds: float = 3600.0):
    """Server-sent events, 5 a second, while the hearing records (R11)."""
    hearing = _staff_hearing(request, hearing_id)

    async def events():
        # R11 wherever the capture runs (this process, another web process, the courtroom PC):
        # the stream lasts while the hearing is live, and says so when levels stop arriving.
        deadline = asyncio.get_running_loop().time() + min(seconds, 6 * 3600)
        while asyncio.get_running_loop().time() < deadline:
            if runtime.engine_for(hearing.pk) is None and not await sync_to_async(
                selectors.hearing_is_live
            )(hearing.pk):
                yield "event: end\ndata: {}\n\n"
                return
            answer = await sync_to_async(selectors.levels_answer)(hearing.pk)
            yield f"data: {json.dumps(answer)}\n\n"
            await asyncio.sleep(0.2)

    response = StreamingHttpResponse(events(), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response


def _recording(request: HttpRequest, recording_id: int) -> Recording:
    recording = (
        Recording.objects.select_related("hearing__case__court", "signed_by")
        .filter(pk=recording_id, hearing__in=visible_hearings(request.user, as_party=False))
        .first()
    )
    if recording is None:
        raise NotFound(_("No recording %(recording_id)s."), params={"recording_id": recording_id})
    return recording


@router.get("/recordings")
def list_recordings(
    request: HttpRequest,
    court: str | None = None,
    case: Id | None = None,
    after: Cursor = 0,
    limit: int = 100,
):
    return selectors.recordings_page(
        request.user, court=court, case=case, after=after, limit=min(max(limit, 1), 500)
    )


@router.get("/recordings/{recording_id}")
def get_recording(request: HttpRequest, recording_id: Id):
    return selectors.recording_detail(_recording(request, recording_id))


def _servable(recording: Recording) -> SealedRecording:
    """The sealed recording whose bytes may be served now (R19, R20), read from the store."""
    if recording.state != Recording.State.SEALED:
        raise Conflict("not_sealed", _("The recording is not sealed yet."))
    retention = getattr(recording, "retention", None)
    if retention is not None and retention.deleted_at is not None:
        # R27: moved to the electronic archive and deleted from the recording server.
        raise Gone(
            "moved_to_archive",
            _(
                "The recording was moved to the electronic archive on %(archived_at)s: "
                "%(archive_location)s"
            ),
            params={
                "archived_at": f"{retention.archived_at:%Y-%m-%d}",
                "archive_location": retention.archive_location,
            },
        )
    return reading.require_servable(recording)


@router.get("/recordings/{recording_id}/media")
def media(request: HttpRequest, recording_id: Id, purpose: str | None = None):
    """The sealed bytes from the blob store, by digest, with HTTP Range (docs/adr/0002); each
    download is audited with its ``purpose`` (R2: proceedings, facts, disciplinary)."""
    recording = _recording(request, recording_id)
    actions.check_read_purpose(purpose)
    sealed = _servable(recording)
    actions.audit_recording_read(
        actor=request.user,
        recording=recording,
        channel="api",
        purpose=purpose,
        read="media",
        range_header=request.headers.get("Range", ""),
    )
    return ranged_stream_response(
        request,
        sealed.bytes,
        lambda start, end: reading.media_chunks(recording, sealed, start, end),
        "video/mp2t",
    )


def _small_file(
    request: HttpRequest,
    recording: Recording,
    kind: str,
    content_type: str,
    *,
    attachment: bool,
    purpose: str | None,
):
    """A small sealed blob, whole; audited with its ``purpose`` like the media (R2)."""
    actions.check_read_purpose(purpose)
    sealed = _servable(recording)
    data = reading.read_sealed(recording, kind)
    actions.audit_recording_read(
        actor=request.user, recording=recording, channel="api", purpose=purpose, read=kind
    )
    response = HttpResponse(data, content_type=content_type)
    disposition = "attachment" if attachment else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{sealed.name(kind)}"'
    return response


@router.get("/recordings/{recording_id}/signature")
def signature(request: HttpRequest, recording_id: Id, purpose: str | None = None):
    recording = _recording(request, recording_id)
    return _small_file(
        request,
        recording,
        "signature",
        "application/pkcs7-signature",
        attachment=True,
        purpose=purpose,
    )


@router.get("/recordings/{recording_id}/manifest")
def manifest(request: HttpRequest, recording_id: Id, purpose: str | None = None):
    recording = _recording(request, recording_id)
    return _small_file(
        request, recording, "manifest", "application/json", attachment=False, purpose=purpose
    )


@router.get("/recordings/{recording_id}/manifest/signature")
def manifest_signature(request: HttpRequest, recording_id: Id, purpose: str | None = None):
    recording = _recording(request, recording_id)
    return _small_file(
        request,
        recording,
        "manifest_signature",
        "application/pkcs7-signature",
        attachment=True,
        purpose=purpose,
    )


@router.get("/recordings/{recording_id}/protocol-extract")
def protocol_extract(request: HttpRequest, recording_id: Id, language: str = "kk"):
    """R13: the brief protocol's extract about the recording, as a PDF in Kazakh or Russian
    (two separate documents, never one mixed form)."""
    if language not in OFFICIAL_LANGUAGES:
        raise InvalidInput("unknown_language", _("Documents are issued in 'kk' or 'ru'."))
    recording = _recording(request, recording_id)
    if recording.state != Recording.State.SEALED:
        raise Conflict("not_sealed", _("The recording is not sealed yet."))
    pdf = render_pdf(
        "documents/protocol_extract.html", selectors.protocol_extract_context(recording), language
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    name = Path(recording.file_name).stem
    response["Content-Disposition"] = f'inline; filename="{name}.protocol-{language}.pdf"'
    return response


# The agents' own endpoints (bearer ``tsa_…`` tokens) and their registration by administrators.
from taspa.recorder import agent_api  # noqa: E402

router.add_router("", agent_api.router)
router.add_router("", agent_api.admin_router)
