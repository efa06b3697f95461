"""The real I/O of writing a case-file medium (R12, R33): wiping or formatting it, building the
BagIt package in a staging directory, reading it back, and moving it into place.

A bag appears under its own name only after it was written, synced and validated in full; any
failure removes the staging directory, so a failed write never leaves a bag that looks valid.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import bagit
from django.utils.translation import gettext_lazy as _

from taspa.custody.policy import (
    FILESYSTEM_ENTRIES,
    STAGING_DIR,
    format_commands,
    format_confirmation,
    human_size,
)
from taspa.errors import DomainError, InvalidInput
from taspa.files import fsync_path

COPY_BUFFER = 4 << 20
SLACK_BYTES = 1 << 20  # bag manifests, the page, file-system overhead


class MediumError(DomainError):
    """The medium cannot be written: not found, not writable, full, not empty after wiping, or
    the bag did not validate. Nothing on it counts as a valid copy."""


@dataclass(frozen=True)
class WrittenBag:
    path: Path
    payload_oxum: str
    sha256: dict[str, str]  # file name in data/ → SHA-256, as the bag's manifest states


@dataclass(frozen=True)
class BagCheck:
    """R22: is the bag there, and does every file match its manifest?"""

    present: bool
    valid: bool
    detail: str
    payload_oxum: str = ""
    sha256: dict[str, str] | None = None


def require_medium_path(mount: Path, *, roots: list[str], mount_point: bool, home: Path) -> Path:
    """Only a removable medium may be wiped: a directory under one of ``roots`` (where the
    system mounts USB sticks and discs), a mount point of its own, and nothing of Taspa's."""
    if not mount.is_dir():
        raise MediumError(
            "medium_not_found",
            _("%(mount)s is not a mounted medium (no directory)."),
            params={"mount": mount},
        )
    real = mount.resolve()
    home = home.resolve()
    inside = any(real.is_relative_to(Path(root).resolve()) and real != Path(root).resolve()
                 for root in roots)  # fmt: skip
    if not inside or home.is_relative_to(real) or real.is_relative_to(home):
        raise MediumError(
            "medium_path_not_allowed",
            _("%(mount)s is not under the media mount roots (%(roots)s): nothing wiped."),
            params={"mount": mount, "roots": ", ".join(roots)},
        )
    if mount_point and not os.path.ismount(real):
        raise MediumError(
            "medium_not_mounted",
            _("%(mount)s is a directory, not a mounted medium: nothing wiped."),
            params={"mount": mount},
        )
    return real


def probe_writable(mount: Path) -> None:
    """Create and remove a file: a read-only medium fails here, before anything is wiped."""
    probe = mount / ".taspa-probe"
    try:
        with open(probe, "wb") as handle:
            handle.write(b"taspa")
            handle.flush()
            os.fsync(handle.fileno())
        probe.unlink()
    except OSError as error:
        raise MediumError(
            "medium_not_writable",
            _("%(mount)s cannot be written."),
            params={"mount": mount},
            technical=error.strerror or error,
        ) from None


def leftovers(mount: Path) -> list[str]:
    return sorted(e.name for e in os.scandir(mount) if e.name not in FILESYSTEM_ENTRIES)


def wipe(mount: Path) -> None:
    """R33: empty the medium (its file system's own entries stay), then check it is empty."""
    for entry in os.scandir(mount):
        if entry.name in FILESYSTEM_ENTRIES:
            continue
        path = Path(entry.path)
        try:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(path)
            else:
                path.unlink()
        except OSError:
            continue  # reported below as what is left
    left = leftovers(mount)
    if left:
        raise MediumError(
            "medium_not_empty",
            _("%(mount)s is not empty after wiping (R33): cannot remove %(files)s."),
            params={"mount": mount, "files": ", ".join(left[:10])},
        )


def mounted_device(mount: Path) -> str | None:
    """The device mounted at ``mount`` (from /proc/self/mounts), if any."""
    target = str(mount.resolve())
    try:
        lines = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return None
    found = None
    for line in lines:
        fields = line.split()
        if len(fields) > 1 and fields[1].replace("\\040", " ") == target:
            found = fields[0]  # the last mount over a point is the visible one
    return found


@dataclass(frozen=True)
class DeviceFacts:
    """R33: what a block device is before it is formatted."""

    device: str
    size_bytes: int
    label: str
    fstype: str
    mounts: tuple[str, ...]  # mount points of the device, its partitions and holders

    @property
    def confirmation(self) -> str:
        return format_confirmation(self.device, self.size_bytes, self.label)


@dataclass(frozen=True)
class FormatRecord:
    """What R33's formatting did, kept on the medium and in the audit trail."""

    device: str
    size_bytes: int
    label_before: str
    fstype_before: str
    filesystem: str
    label: str
    commands: list[str]

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def _is_block(device: str) -> bool:
    try:
        return stat.S_ISBLK(os.stat(device).st_mode)
    except OSError:
        return False


def _probe(device: str) -> dict[str, str]:
    """blkid's low-level probe of the device itself (no udev cache): TYPE, LABEL…"""
    from taspa.sealing.tools import run_tool

    run = run_tool(["blkid", "-p", "-o", "export", device], timeout=60)
    pairs = (line.split("=", 1) for line in run.stdout.splitlines() if "=" in line)
    return dict(pairs)


def _size(device: str) -> int:
    fd = os.open(device, os.O_RDONLY)
    try:
        return os.lseek(fd, 0, os.SEEK_END)
    finally:
        os.close(fd)


def _related_devices(device: str) -> set[str]:
    """major:minor of ``device``, its partitions and whatever is built on them (LVM, RAID)."""
    name = Path(os.path.realpath(device)).name
    base = Path("/sys/class/block") / name
    found: set[str] = set()
    todo, seen = [base], set()
    while todo:
        node = todo.pop()
        if node.name in seen:
            continue
        seen.add(node.name)
        with contextlib.suppress(OSError):
            found.add((node / "dev").read_text().strip())
        for child in (*node.glob(f"{name}*"), *(node / "holders").glob("*")):
            if (child / "dev").exists() and child.resolve() != node.resolve():
                todo.append(Path("/sys/class/block") / child.name)
    if not found:  # no sysfs entry: compare the device number itself
        st = os.stat(device)
        found.add(f"{os.major(st.st_rdev)}:{os.minor(st.st_rdev)}")
    return found


def _mounts_of(numbers: set[str]) -> tuple[str, ...]:
    """Mount points (and swap) of file systems on any of the devices ``numbers``."""
    points = []
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/mountinfo").read_text().splitlines():
            fields = line.split()
            if len(fields) > 4 and fields[2] in numbers:
                points.append(fields[4].replace("\\040", " "))
    with contextlib.suppress(OSError):
        for line in Path("/proc/swaps").read_text().splitlines()[1:]:
            swap = line.split()[0]
            if _is_block(swap):
                st = os.stat(swap)
                if f"{os.major(st.st_rdev)}:{os.minor(st.st_rdev)}" in numbers:
                    points.append(f"swap {swap}")
    return tuple(points)


def device_mounts(device: str) -> tuple[str, ...]:
    """Every mount point (and swap) of the block device, its partitions and holders."""
    if not _is_block(device):
        raise InvalidInput(
            "not_a_block_device", _("%(device)s is not a block device."), params={"device": device}
        )
    return _mounts_of(_related_devices(device))


def describe_device(device: str) -> DeviceFacts:
    """R33: the block device's size, label, file system and every place it is mounted."""
    mounts = device_mounts(device)
    try:
        size = _size(device)
    except OSError as error:
        raise MediumError(
            "device_unreadable",
            _("%(device)s cannot be read."),
            params={"device": device},
            technical=error.strerror or error,
        ) from None
    probe = _probe(device)
    return DeviceFacts(
        device=device,
        size_bytes=size,
        label=probe.get("LABEL", ""),
        fstype=probe.get("TYPE", ""),
        mounts=mounts,
    )


def format_device(device: str, mount: Path, filesystem: str, confirmation: str) -> FormatRecord:
    """R33 low-level formatting of a block device: only after ``confirmation`` names the device,
    its size and its label exactly (``DeviceFacts.confirmation``), and never for a device any of
    whose file systems is mounted anywhere but at the medium's own ``mount`` (a system disk, a
    second mount, swap). Unmounts it, erases every signature, makes the new file system and
    mounts it back at ``mount``. Returns what was done, kept as provenance."""
    from taspa.sealing.tools import run_tool

    own = str(mount.resolve())
    # Refused before the device is even read: a system disk is not looked at.
    elsewhere = [point for point in device_mounts(device) if point != own]
    if elsewhere:
        raise InvalidInput(
            "device_in_use",
            _("%(device)s holds file systems mounted at %(where)s: nothing formatted."),
            params={"device": device, "where": ", ".join(elsewhere)},
        )
    facts = describe_device(device)
    if confirmation.strip() != facts.confirmation:
        raise InvalidInput(
            "format_not_confirmed",
            _(
                "Formatting erases %(device)s (%(size)s, label %(label)s): "
                "confirm with “%(confirmation)s”."
            ),
            params={
                "device": device,
                "size": human_size(facts.size_bytes),
                "label": facts.label or _("(no label)"),
                "confirmation": facts.confirmation,
            },
        )
    mounted = own in facts.mounts
    done = []
    for command in format_commands(device, str(mount), filesystem):
        if command[0] == "umount" and not mounted:
            continue
        run = run_tool(command, timeout=600)
        done.append(" ".join(run.command))
        if not run.ok:
            raise MediumError(
                "medium_format_failed",
                _("Formatting the medium failed."),
                technical=f"{command[0]}: {run.stderr.strip()[:300]}",
            )
    after = _probe(device)
    return FormatRecord(
        device=device,
        size_bytes=facts.size_bytes,
        label_before=facts.label,
        fstype_before=facts.fstype,
        filesystem=after.get("TYPE", filesystem),
        label=after.get("LABEL", ""),
        commands=done,
    )


def free_bytes(mount: Path) -> int:
    return shutil.disk_usage(mount).free


def require_space(mount: Path, needed: int) -> None:
    free = free_bytes(mount)
    if free < needed + SLACK_BYTES:
        raise MediumError(
            "medium_full",
            _("%(mount)s has %(free)s bytes free; the copy needs %(needed)s."),
            params={"mount": mount, "free": free, "needed": needed + SLACK_BYTES},
        )


def copy_synced(source: Path, target: Path) -> None:
    with open(source, "rb") as src, open(target, "wb") as dst:
        shutil.copyfileobj(src, dst, COPY_BUFFER)
        dst.flush()
        os.fsync(dst.fileno())


def _sync_tree(root: Path) -> None:
    for directory, _dirs, names in os.walk(root):
        for name in names:
            fsync_path(Path(directory) / name)
        fsync_path(Path(directory))


def _classify(error: Exception, mount: Path) -> MediumError:
    """What a failed write means for the person at the computer: full, or failed."""
    full = isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT)
    with contextlib.suppress(OSError):  # the medium may have been pulled out
        full = full or free_bytes(mount) < SLACK_BYTES
    if full:
        return MediumError(
            "medium_full",
            _("The medium ran out of space while writing."),
            technical=error,
        )
    if isinstance(error, MediumError):
        return error
    return MediumError("medium_write_failed", _("Writing the medium failed."), technical=error)


def build_bag(
    mount: Path,
    name: str,
    *,
    copy_in: Callable[[Path], object],
    extra: dict[str, bytes],
    render: object,
    bag_info: dict[str, str],
) -> WrittenBag:
    """Write what ``copy_in(staging)`` copies (the sealed files, checked as they are written),
    ``extra`` (name → bytes) and whatever ``render(staging)`` makes into a BagIt bag, read it
    all back, and only then rename it to ``mount/name``."""
    staging = mount / STAGING_DIR
    shutil.rmtree(staging, ignore_errors=True)  # a crash's leftovers: never a valid bag
    try:
        staging.mkdir()
        copy_in(staging)
        for extra_name, data in extra.items():
            (staging / extra_name).write_bytes(data)
        render(staging)
        bag = bagit.make_bag(str(staging), bag_info, checksums=["sha256"])
        _sync_tree(staging)
        check = check_bag(staging)
        if not check.valid:
            raise MediumError(
                "medium_write_failed",
                _("The copy read back from the medium is not valid."),
                technical=check.detail,
            )
        final = mount / name
        staging.rename(final)
        fsync_path(mount)
    except Exception as error:
        if isinstance(error, DomainError) and not isinstance(error, MediumError):
            shutil.rmtree(staging, ignore_errors=True)
            raise  # a refusal of the source (fixity_failed), not of the medium
        failure = _classify(error, mount)  # before cleaning up frees the space again
        shutil.rmtree(staging, ignore_errors=True)
        raise failure from error
    return WrittenBag(final, bag.info.get("Payload-Oxum", ""), check.sha256 or {})


def check_bag(path: Path) -> BagCheck:
    """Read the whole bag back against its manifests (bagit's full validation)."""
    if not (path / "bagit.txt").is_file():
        return BagCheck(False, False, f"no bag at {path}")
    try:
        bag = bagit.Bag(str(path))
        bag.validate(processes=1, fast=False)
    except bagit.BagError as error:
        return BagCheck(True, False, f"the bag does not validate: {error}")
    sha256 = {
        Path(entry).name: digests["sha256"] for entry, digests in bag.payload_entries().items()
    }
    oxum = bag.info.get("Payload-Oxum", "")
    return BagCheck(True, True, f"{len(sha256)} files match the bag's manifest", oxum, sha256)


def player_copy(media: Path, staging: Path) -> str:
    """Make the copy the offline page plays (browsers do not play MPEG-TS): see
    ``policy.player_rendition``. Returns its file name in ``staging``."""
    import json

    from taspa.custody.policy import player_rendition
    from taspa.recorder.proc import run_tool

    probe = run_tool(
        ["ffprobe", "-v", "error", "-show_entries", "stream=codec_type", "-of", "json", str(media)],
        timeout=120,
    )
    if probe.returncode != 0:
        raise MediumError(
            "medium_write_failed",
            _("ffprobe cannot read %(media_name)s."),
            params={"media_name": media.name},
        )
    kinds = [s.get("codec_type") for s in json.loads(probe.stdout or b"{}").get("streams", [])]
    name, argv = player_rendition(
        str(media),
        str(staging),
        media.name.rsplit(".", 1)[0],
        audio_tracks=kinds.count("audio"),
        has_video="video" in kinds,
    )
    made = run_tool(argv, timeout=6 * 3600)
    if made.returncode != 0:
        raise MediumError(
            "medium_write_failed",
            _("Making the playable copy failed."),
            technical=made.stderr[-300:],
        )
    fsync_path(staging / name)
    return name
