"""Pure rules of the custody area (R12, R15, R21, R22, R25, R26, R29, R33). No Django here.

The case-file medium is the one copy of a hearing's recording that goes into the case file (R12)
in a sealed, labelled envelope (R15). The secretary holds it while the case is heard, the
archivist after the case goes to the archive (R21); the archivist checks it on acceptance (R22).
It is kept as long as the case file (R24, R25) and then destroyed under the archive rules (R26).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import date

# --- states of a medium --------------------------------------------------------------------------


class MediumState(enum.StrEnum):
    WRITING = "writing"  # being written: never a valid medium (a crash leaves it so)
    FAILED = "failed"  # the write or its validation failed; nothing on it counts
    WITH_SECRETARY = "with_secretary"  # R21: written, in the case file, held by the secretary
    HANDED_OVER = "handed_over"  # on its way to the archive: the archivist has to accept it
    IN_ARCHIVE = "in_archive"  # R21, R22: accepted and held by the archivist
    DESTROYED = "destroyed"  # R26: destroyed under a destruction act


# States in which a medium exists and is somebody's responsibility.
HELD_STATES = (MediumState.WITH_SECRETARY, MediumState.HANDED_OVER, MediumState.IN_ARCHIVE)


class MediumKind(enum.StrEnum):
    USB = "usb"
    DISC = "disc"


# --- retention (R24, R25) ------------------------------------------------------------------------

# Years the medium is kept, by case kind: "as long as the case file itself" (R24), whose period
# the official list of court documents sets (R25). These defaults follow the common periods of
# that list for ordinary case files; a court sets its own with TASPA_MEDIUM_RETENTION_YEARS
# (e.g. a longer period for criminal cases with long sentences).
DEFAULT_RETENTION_YEARS: Mapping[str, int] = {
    "criminal": 25,
    "civil": 5,
    "administrative": 5,
    "admin_offence": 3,
    "disciplinary": 5,
}


def retention_until(
    case_kind: str, judgment_effective_on: date | None, schedule: Mapping[str, int]
) -> date | None:
    """The last day the medium is kept, or None while the judgment has not taken legal effect.

    Archive periods run from 1 January of the year after the case was completed, so a period of
    N years ends on 31 December of year (effective year + N).
    """
    if judgment_effective_on is None:
        return None
    years = schedule.get(case_kind)
    if years is None:
        raise KeyError(f"no retention period for case kind {case_kind!r}")
    return date(judgment_effective_on.year + years, 12, 31)


# R26: «Уничтожение … осуществляется согласно Правилам о порядке формирования, отбора, учета,
# временного хранения и передачи на постоянное хранение … документов … судов». Under those
# archive rules the act on documents selected for destruction is drawn up by the person in
# charge of the archive and approved by the head of the court's staff (here: the court
# administrator) — only then are the documents destroyed. The order is the order of the
# signature lines. The expert commission's own review is not modelled (an assumption).
DESTRUCTION_SIGNERS = ("archivist", "court_admin")


def destruction_complete(required: tuple[str, ...] | list[str], signed: set[str]) -> bool:
    """R26: media listed in an act are destroyed only once every required role has signed."""
    return set(required) <= set(signed)


def missing_media(recordings: list[tuple[int, str, str | None]]) -> list[dict[str, object]]:
    """R22: of the case's sealed recordings — (id, file name, state of its case-file medium or
    None) — those whose medium did not come to the archive with the case: never written, failed,
    destroyed, or still kept by the secretary instead of handed over with the file."""
    held = {MediumState.HANDED_OVER.value, MediumState.IN_ARCHIVE.value}
    return [
        {"recording": pk, "file": name, "why": f"medium_{state}" if state else "no_medium"}
        for pk, name, state in recordings
        if state not in held
    ]


def due_for_destruction(until: date | None, on: date) -> bool:
    """R26: a medium may be listed for destruction once its period is over."""
    return until is not None and until < on


# --- the medium's contents (R12, R33) ------------------------------------------------------------

# Entries a file system keeps for itself: they stay after wiping and do not make a medium "not
# empty" (ext4's lost+found; FAT/exFAT media have none that survive a wipe).
FILESYSTEM_ENTRIES = frozenset({"lost+found"})
STAGING_DIR = ".taspa-writing"  # a bag is built here and renamed into place only when valid
MEDIUM_LABEL = "TASPA"


def bag_name(recording_file_name: str) -> str:
    """The bag's directory on the medium: the recording's name without its extension."""
    stem = recording_file_name.rsplit(".", 1)[0]
    return f"{stem}.bag"


def human_size(size_bytes: int) -> str:
    """A device's size as the person formatting it reads it: "32.0 MiB", "14.9 GiB"."""
    size = float(size_bytes)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def format_confirmation(device: str, size_bytes: int, label: str) -> str:
    """R33: what the person formatting the medium types to confirm it — the device, its size and
    its current label, so that nobody erases the wrong stick by a slip of one letter."""
    return f"{device} {human_size(size_bytes)} {label or '(no label)'}"


def format_commands(device: str, mount: str, filesystem: str) -> list[list[str]]:
    """R33 low-level formatting of a block device: unmount, erase every signature, make a new
    file system, mount it back where it was. exFAT by default (no 4 GiB file limit, readable by
    every office computer); vfat and ext4 on request."""
    mkfs = {
        "exfat": ["mkfs.exfat", "-n", MEDIUM_LABEL, device],
        "vfat": ["mkfs.vfat", "-F", "32", "-n", MEDIUM_LABEL, device],
        "ext4": ["mkfs.ext4", "-q", "-F", "-L", MEDIUM_LABEL, device],
    }
    if filesystem not in mkfs:
        raise ValueError(f"filesystem must be one of {sorted(mkfs)}, not {filesystem!r}")
    return [
        ["umount", mount],
        ["wipefs", "--all", device],
        mkfs[filesystem],
        ["mount", device, mount],
    ]


def player_rendition(
    media: str, out_dir: str, stem: str, *, audio_tracks: int, has_video: bool
) -> tuple[str, list[str]]:
    """(file name, ffmpeg argv) of the copy the offline page plays: browsers do not play MPEG-TS.

    One audio track is stream-copied (bit-exact Opus); several microphones are mixed into one
    track, since a browser plays only the first; video is stream-copied. The signed original is
    on the medium beside it — this copy is only for listening.
    """
    name = f"{stem}.player.{'mp4' if has_video else 'webm'}"
    argv = ["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-y", "-i", media]
    if has_video:
        argv += ["-map", "0:v:0", "-c:v", "copy"]
    if audio_tracks == 1:
        argv += ["-map", "0:a:0", "-c:a", "copy"]
    elif audio_tracks > 1:
        inputs = "".join(f"[0:a:{n}]" for n in range(audio_tracks))
        argv += ["-filter_complex", f"{inputs}amix=inputs={audio_tracks}:normalize=0[mix]",
                 "-map", "[mix]", "-c:a", "libopus", "-b:a", "64k"]  # fmt: skip
    argv += ["-avoid_negative_ts", "make_zero", f"{out_dir.rstrip('/')}/{name}"]
    return name, argv


def clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"
