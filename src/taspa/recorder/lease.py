"""Which server process owns a hearing's capture: the lease row, its heartbeat, and the
commands queued for the owner (R6, R19: one capture per hearing, no audio thrown away).

The owner is named ``host:pid:boot-id``. It renews its leases' ``heartbeat_at`` every
``HEARTBEAT_S`` (``recorder.keeper``); a lease is free for another process once its heartbeat is
older than ``LEASE_TTL`` or, on the same host and boot, once its process is gone (a ``kill -9``
and restart take it over at once). Claims are conditional UPDATEs on the row as it was read, so
two processes racing for one hearing never both win: a second ffmpeg is never started.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.db import IntegrityError, transaction
from django.utils import timezone

from taspa.recorder.models import CaptureCommand, CaptureLease

LEASE_TTL = timedelta(seconds=10)
HEARTBEAT_S = 2.0

_owner: tuple[int, str] | None = None


def boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return "no-boot-id"


def me() -> str:
    """This process's owner name (recomputed after a fork)."""
    global _owner
    if _owner is None or _owner[0] != os.getpid():
        _owner = (os.getpid(), f"{socket.gethostname()}:{os.getpid()}:{boot_id()}")
    return _owner[1]


@dataclass(frozen=True)
class Owner:
    host: str
    pid: int
    boot: str

    @classmethod
    def parse(cls, owner: str) -> Owner | None:
        host, _, rest = owner.partition(":")
        pid, _, boot = rest.partition(":")
        return cls(host, int(pid), boot) if pid.isdigit() else None


def _process_started(pid: int) -> float | None:
    """Wall time a live process of this host started, or None when there is none."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()
        if fields[0] == "Z":
            return None
        ticks = int(fields[19]) / os.sysconf("SC_CLK_TCK")
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, IndexError, ValueError):
        return None
    return timezone.now().timestamp() - uptime + ticks


def owner_gone(lease: CaptureLease) -> bool:
    """True when the owner is known dead: a process of this host and boot that no longer runs
    (or a newer process that took its pid after the lease was acquired)."""
    owner = Owner.parse(lease.owner)
    if owner is None:
        return True
    if owner.host != socket.gethostname() or owner.boot != boot_id():
        return False  # another machine: only its heartbeat tells
    started = _process_started(owner.pid)
    return started is None or started > lease.acquired_at.timestamp() + 1.0


def expired(lease: CaptureLease, now: datetime | None = None) -> bool:
    return (now or timezone.now()) - lease.heartbeat_at > LEASE_TTL


def lease_of(hearing_id: int) -> CaptureLease | None:
    return CaptureLease.objects.filter(hearing_id=hearing_id).first()


def held_elsewhere(hearing_id: int) -> bool:
    """Another live process owns this hearing's capture."""
    lease = lease_of(hearing_id)
    if lease is None or lease.owner == me():
        return False
    return not (expired(lease) or owner_gone(lease))


def claim(hearing_id: int) -> None:
    """Take the lease for a capture this process starts (inside the start's transaction)."""
    now = timezone.now()
    CaptureLease.objects.update_or_create(
        hearing_id=hearing_id, defaults={"owner": me(), "acquired_at": now, "heartbeat_at": now}
    )


def take_over(hearing_id: int) -> bool:
    """Claim a free lease (none, expired, or its owner gone); False when another process holds
    it or won the race. One conditional UPDATE on the row as read: at most one winner."""
    now = timezone.now()
    lease = lease_of(hearing_id)
    if lease is None:
        try:
            with transaction.atomic():
                CaptureLease.objects.create(
                    hearing_id=hearing_id, owner=me(), acquired_at=now, heartbeat_at=now
                )
            return True
        except IntegrityError:
            return False  # another process created it first
    if lease.owner == me():
        return True
    if not (expired(lease, now) or owner_gone(lease)):
        return False
    won = CaptureLease.objects.filter(
        hearing_id=hearing_id, owner=lease.owner, heartbeat_at=lease.heartbeat_at
    ).update(owner=me(), acquired_at=now, heartbeat_at=now)
    return won == 1


def renew(hearing_ids: list[int]) -> list[int]:
    """Renew this process's leases; returns the hearings whose lease is no longer ours."""
    if not hearing_ids:
        return []
    CaptureLease.objects.filter(owner=me(), hearing_id__in=hearing_ids).update(
        heartbeat_at=timezone.now()
    )
    held = set(
        CaptureLease.objects.filter(owner=me(), hearing_id__in=hearing_ids).values_list(
            "hearing_id", flat=True
        )
    )
    return [h for h in hearing_ids if h not in held]


def release(hearing_id: int) -> None:
    CaptureLease.objects.filter(hearing_id=hearing_id, owner=me()).delete()


def orphaned(hearing_ids: list[int]) -> list[int]:
    """Of these hearings, those whose lease another process may take (none, expired, gone)."""
    rows = CaptureLease.objects.filter(hearing_id__in=hearing_ids)
    leases = {lease.hearing_id: lease for lease in rows}
    now = timezone.now()
    return [
        h
        for h in hearing_ids
        if h not in leases
        or leases[h].owner == me()
        or expired(leases[h], now)
        or owner_gone(leases[h])
    ]


# --- commands for the owner ---------------------------------------------------------------------


def queue(hearing_id: int, verb: str, actor_id: int, args: dict) -> CaptureCommand:
    return CaptureCommand.objects.create(
        hearing_id=hearing_id, verb=verb, actor_id=actor_id, args=args
    )


def take_commands(hearing_ids: list[int]) -> list[CaptureCommand]:
    """The open commands for hearings this process owns, each taken by one process only."""
    if not hearing_ids:
        return []
    taken = []
    for command in CaptureCommand.objects.filter(
        hearing_id__in=hearing_ids, done_at__isnull=True, taken_by=""
    ).order_by("id"):
        if CaptureCommand.objects.filter(pk=command.pk, taken_by="").update(taken_by=me()):
            taken.append(command)
    return taken


def finish(command: CaptureCommand, outcome: dict) -> None:
    CaptureCommand.objects.filter(pk=command.pk).update(done_at=timezone.now(), outcome=outcome)


def give_up(command: CaptureCommand) -> bool:
    """The requester stops waiting: True when no owner took the command (it never runs)."""
    return bool(
        CaptureCommand.objects.filter(pk=command.pk, taken_by="", done_at__isnull=True).update(
            done_at=timezone.now(), outcome={"error": "expired"}
        )
    )


def publish_levels(hearing_id: int, answer: dict) -> None:
    """R11: the owner's meter reading for the consoles other web processes serve."""
    CaptureLease.objects.filter(hearing_id=hearing_id, owner=me()).update(
        levels=answer, levels_at=timezone.now()
    )


def owner_levels(hearing_id: int, max_age_s: float) -> dict | None:
    """The owner's latest meter reading while it is fresh, else None."""
    row = CaptureLease.objects.filter(hearing_id=hearing_id).values("levels", "levels_at").first()
    if row is None or row["levels_at"] is None:
        return None
    if (timezone.now() - row["levels_at"]).total_seconds() > max_age_s:
        return None
    return row["levels"]
