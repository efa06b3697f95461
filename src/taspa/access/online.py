"""A participant plays a granted copy online, in the browser (R31, R32 for part of a hearing).

What plays is derived under ``TASPA_HOME/access/online/<copy>/<key>/``: an Opus-in-WebM
rendition on the original's timeline in which what the issued copy left out (its signed
manifest's cuts, rounded outward to packet boundaries) and every closed portion as it stands
now are silence — their samples are zeroed before encoding, so no byte of a closed portion
reaches the browser — with peaks.json for peaks.js and the marks outside the closed portions.
The key is the digest of the copy's media and of those intervals, so a later judge's decision
gives a new rendition. Actions in the STYLE sense (they audit), split out as ``copies.py`` is.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from taspa.access.models import Copy
from taspa.access.policy import Audience, Interval, excluded_for, merge_intervals
from taspa.audit.actions import record
from taspa.courts.models import User
from taspa.errors import Conflict, Forbidden, NotFound, RuleRefusal
from taspa.recorder.models import Recording
from taspa.recorder.proc import run_tool
from taspa.recorder.selectors import closed_intervals, effective_marks
from taspa.sealing.reading import checked_copy
from taspa.web.playback import compute_peaks, probe_streams, samples_per_pixel

log = logging.getLogger("taspa.access")
RATE = 48000
KBPS = 32
TOOL_TIMEOUT_S = 6 * 3600


@dataclass(frozen=True)
class OnlineFiles:
    root: Path

    @property
    def mix(self) -> Path:
        return self.root / "mix.webm"

    @property
    def peaks(self) -> Path:
        return self.root / "peaks.json"

    @property
    def info(self) -> Path:
        return self.root / "info.json"


def _recording(copy: Copy) -> Recording:
    return Recording.objects.select_related("hearing").get(hearing=copy.petition.hearing)


def excluded_intervals(copy: Copy) -> list[Interval]:
    """What this copy's online playback leaves out (R32): every closed portion as it stands."""
    recording = _recording(copy)
    excluded = excluded_for(
        Audience.COPY,
        closed_hearing=recording.hearing.closed,
        portions=closed_intervals(recording),
    )
    if excluded is None:  # a copy of a hearing closed whole is never issued (R32)
        raise RuleRefusal("closed_hearing_no_copy", _("The hearing was held in closed session."))
    return excluded


def playable_copy(user: User, copy_id: int) -> Copy:
    """The copy ``user`` may play online: their own, while its link lives (R31)."""
    copy = (
        Copy.objects.select_related("petition__hearing__case__court")
        .filter(pk=copy_id, petition__applicant_user=user)
        .first()
    )
    if copy is None:
        raise NotFound(_("No such copy of yours."), code="not_found")
    if timezone.now() > copy.expires_at:
        raise Forbidden(_("The copy's link has expired."), code="download_link_expired")
    return copy


def files_for(copy: Copy, excluded: list[Interval]) -> OnlineFiles:
    key = hashlib.sha256(
        json.dumps([copy.media_sha256, [[round(a, 3), round(b, 3)] for a, b in excluded]]).encode()
    ).hexdigest()[:16]
    return OnlineFiles(Path(settings.TASPA_HOME) / "access" / "online" / str(copy.pk) / key)


def _package(copy: Copy) -> Path:
    from taspa.access.copies import _restore, copies_dir  # the zip back from the store

    path = copies_dir() / copy.file_name
    return path if path.is_file() else _restore(copy, path)


def copy_cuts(copy: Copy) -> list[Interval]:
    """What the issued copy left out, as its signed manifest lists it: each interval as cut
    (rounded outward to packet boundaries, GOP-aligned with video)."""
    with zipfile.ZipFile(_package(copy)) as archive:
        name = next(
            n for n in archive.namelist() if n.endswith(".manifest.json") and "/data/copy/" in n
        )
        excluded = json.loads(archive.read(name)).get("copy", {}).get("excluded") or []
    return [
        (float(e["cut"][0]), float(e["cut"][1]))
        for e in excluded
        if isinstance(e, dict) and e.get("cut")
    ]


FRAME_S = 0.01  # the zeroing filter sees 10 ms frames: one that touches an interval is zeroed


def silence_expression(excluded: list[Interval]) -> str:
    """Frames starting from one frame before an interval to its end: rounded outward."""
    return "+".join(f"between(t,{a - FRAME_S:.4f},{b:.4f})" for a, b in excluded)


def rendition_command(media: Path, tracks: int, excluded: list[Interval], out: Path) -> list[str]:
    """Opus in WebM on the original's timeline (``-copyts``: media time is the capture's
    timestamps, from 0, as marks' offsets and the copy's cut): gaps (what the cut removed,
    pauses) filled with silence from 0 on, closed intervals zeroed."""
    lines = [f"[0:a:{n}]aresample={RATE}:async=1:first_pts=0[a{n}]" for n in range(tracks)]
    joined = "".join(f"[a{n}]" for n in range(tracks))
    mixed = f"{joined}amix=inputs={tracks}:normalize=0," if tracks > 1 else f"{joined}"
    tail = "aformat=channel_layouts=mono"
    if excluded:
        tail += f",asetnsamples=n={int(RATE * FRAME_S)}:p=0"
        tail += f",volume=volume=0:enable='{silence_expression(excluded)}'"
    graph = ";".join([*lines, f"{mixed}{tail}[mix]"])
    return [
        "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-copyts",
        "-i", str(media), "-filter_complex", graph, "-map", "[mix]", "-c:a", "libopus",
        "-b:a", f"{KBPS}k", "-f", "webm", str(out),
    ]  # fmt: skip


class PlaybackUnavailable(Conflict):
    """The online playback could not be derived (the download still works)."""

    def __init__(self) -> None:
        super().__init__(
            "online_playback_unavailable",
            _("The copy cannot be played online now; download it instead."),
        )


def prepare(copy: Copy) -> OnlineFiles:
    """The online playback's files (see ``_prepare``); a failure to derive them is a refusal
    with its reason in the log, never a server error."""
    try:
        return _prepare(copy)
    except (OSError, RuntimeError, KeyError, ValueError, StopIteration, zipfile.BadZipFile):
        log.exception("online playback of copy %s could not be prepared", copy.pk)
        raise PlaybackUnavailable() from None


def _prepare(copy: Copy) -> OnlineFiles:
    """Derive the online playback of ``copy`` for the closed intervals as they stand now;
    idempotent (``info.json`` last: its presence says the rest is complete)."""
    recording = _recording(copy)
    excluded = merge_intervals(
        [*excluded_intervals(copy), *copy_cuts(copy)], recording.duration_s or float("inf")
    )
    files = files_for(copy, excluded)
    if files.info.exists():
        return files
    files.root.mkdir(parents=True, exist_ok=True)
    # Decoded from the sealed original as the store holds it (checked as it is copied), not
    # from the copy's file: an Ogg page's timestamps are counted back from its end, so the
    # packets just before a cut would play late; the original's timestamps are exact. What the
    # copy left out and every closed portion are zeroed before encoding, so nothing of them is
    # in the rendition.
    with (
        tempfile.TemporaryDirectory(dir=files.root.parent, prefix=".work-") as temp,
        checked_copy(recording, ["media"]) as sealed,
    ):
        media = sealed.media
        tracks = len([s for s in probe_streams(media) if s.get("codec_type") == "audio"])
        partial = Path(temp) / "mix.webm"
        command = rendition_command(media, tracks, excluded, partial)
        done = run_tool(command, timeout=TOOL_TIMEOUT_S)
        if done.returncode != 0:
            raise RuntimeError(f"ffmpeg failed: {done.stderr[:300]}")
        per_pixel = samples_per_pixel(recording.duration_s)
        peaks = compute_peaks(partial, 1, per_pixel)
        partial.replace(files.mix)
    _write(files.peaks, peaks)
    _write(files.info, {"samples_per_pixel": per_pixel, "excluded": excluded})
    return files


def _write(path: Path, value: Any) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")
    partial.replace(path)


def inside(moment: float, excluded: list[Interval]) -> bool:
    return any(a <= moment < b for a, b in excluded)


def open_playback(*, actor: User, copy: Copy) -> dict[str, Any]:
    """What the portal's player shows, audited (every online playback is on record)."""
    files = prepare(copy)
    info = json.loads(files.info.read_text(encoding="utf-8"))
    excluded = [(float(a), float(b)) for a, b in info["excluded"]]
    recording = _recording(copy)
    marks = [m for m in effective_marks(recording) if not inside(m["offset_s"], excluded)]
    with transaction.atomic():
        record(
            actor=actor,
            action="access.copy_play",
            target=copy,
            payload={"excluded": [[round(a, 3), round(b, 3)] for a, b in excluded]},
        )
    return {
        "files": files,
        "samples_per_pixel": info["samples_per_pixel"],
        "excluded": excluded,
        "marks": marks,
        "duration_s": recording.duration_s,
    }
